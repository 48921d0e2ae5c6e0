#version 330 core
#include "lighting.glsl"
// Height-field vertex: x, y static; height, normal, colormap coordinate, invalid flag per frame.
// Few varyings on purpose: on llvmpipe each one costs setup per triangle (520k at 512^2).
// VERTEX_LIGHTING (dense grids): lights are evaluated here as color = albedo * diffuse + add,
// the fragment shader only looks up the colormap; a 512^2 grid at 4K has a vertex every
// few pixels, finer than any lighting change.
in vec2 in_xy;
in float in_h;
in vec3 in_n;
in float in_s;
in float in_bad;

uniform mat4 u_mvp;
uniform mat4 u_light_mvp;

#if defined(VERTEX_LIGHTING)
out vec3 v_diffuse;
out vec3 v_add;
#else
out vec3 v_n;
#endif
#if !defined(VERTEX_LIGHTING) || defined(CONTOURS) || defined(GRID)
out vec3 v_pos;
#define NEED_POS
#endif
out vec3 v_attr;       // colormap coordinate, invalid flag, shadow (-1 = per pixel) or fog
#if defined(SHADOWS) && !defined(VERTEX_SHADOWS)
out vec4 v_light;
#endif

void main() {
    vec3 p = vec3(in_xy, in_h);
#if defined(NEED_POS)
    v_pos = p;
#endif
    float shadow = -1.0;
#if defined(VERTEX_SHADOWS)
    shadow = shadow_factor(u_light_mvp * vec4(p, 1.0), max(dot(in_n, u_key_dir), 0.0));
#elif defined(SHADOWS)
    v_light = u_light_mvp * vec4(p, 1.0);
#endif
#if defined(VERTEX_LIGHTING)
    bool below = dot(in_n, u_eye - p) < 0.0;   // seen from under its tangent plane
    vec3 n = below ? -in_n : in_n;
    vec3 add = shade(vec3(0.0), n, p, vec4(0.0), 0.0, below, shadow);
    v_diffuse = shade(vec3(1.0), n, p, vec4(0.0), 0.0, below, shadow) - add;
    v_add = add;
    v_attr = vec3(in_s, in_bad, fog_amount(p));
#else
    v_n = in_n;
    v_attr = vec3(in_s, in_bad, shadow);
#endif
    gl_Position = u_mvp * vec4(p, 1.0);
}
