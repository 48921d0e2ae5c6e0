#version 330 core
#include "shadow.glsl"
// Height-field vertex: x, y static; height, normal, colormap coordinate, invalid flag per frame.
// Few varyings on purpose: on llvmpipe each one costs setup per triangle (520k at 512^2).
in vec2 in_xy;
in float in_h;
in vec3 in_n;
in float in_s;
in float in_bad;

uniform mat4 u_mvp;
uniform mat4 u_light_mvp;
uniform vec3 u_key_dir;

out vec3 v_pos;
out vec3 v_n;
out vec3 v_attr;       // colormap coordinate, invalid flag, per-vertex shadow (-1 = per pixel)
#if defined(SHADOWS) && !defined(VERTEX_SHADOWS)
out vec4 v_light;
#endif

void main() {
    vec3 p = vec3(in_xy, in_h);
    v_pos = p;
    v_n = in_n;
    float shadow = -1.0;
#if defined(VERTEX_SHADOWS)
    shadow = shadow_factor(u_light_mvp * vec4(p, 1.0), max(dot(in_n, u_key_dir), 0.0));
#elif defined(SHADOWS)
    v_light = u_light_mvp * vec4(p, 1.0);
#endif
    v_attr = vec3(in_s, in_bad, shadow);
    gl_Position = u_mvp * vec4(p, 1.0);
}
