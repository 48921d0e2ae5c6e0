#version 330 core
#include "common.glsl"

#if defined(VERTEX_COLOR) && defined(AFFINE)
noperspective in vec3 v_color;
noperspective in vec3 v_under;
#if defined(VERTEX_SHADOWS)
noperspective in vec3 v_shade;
noperspective in vec3 v_pos;
#define HAS_POS
#endif
#if defined(DITHER)
noperspective in float v_ramp;
#else
const float v_ramp = 0.0;
#endif
#elif defined(VERTEX_COLOR)
in vec3 v_color;
in vec3 v_under;
#if defined(VERTEX_SHADOWS)
in vec3 v_shade;
#endif
#elif defined(VERTEX_LIGHTING)
in vec3 v_diffuse;
in vec3 v_add;
in vec3 v_attr;
in vec3 v_under;
#if defined(VERTEX_SHADOWS)
in vec3 v_key_diffuse;
in vec3 v_key_add;
#endif
#else
in vec3 v_n;
in vec4 v_attr;
#endif
#if !defined(HAS_POS) && (!defined(VERTEX_LIGHTING) || defined(CONTOURS) || defined(GRID) || defined(VERTEX_SHADOWS))
in vec3 v_pos;
#define HAS_POS
#endif
#if defined(SHADOWS) && !defined(VERTEX_SHADOWS)
in vec4 v_light;
#else
const vec4 v_light = vec4(0.0);
#endif

uniform sampler2D u_cmap;    // 256 x 1, linear rgb
uniform vec3 u_bad_color;    // linear

uniform float u_contour_lo;
uniform float u_contour_step;
uniform float u_contour_width;   // px
uniform vec4 u_contour_color;    // linear rgb, opacity

uniform vec2 u_grid_lo;
uniform vec2 u_grid_step;
uniform float u_grid_width;      // px
uniform vec4 u_grid_color;

out vec4 f_color;

// Coverage of lines at integer values of f, of constant on-screen width (px).
float line_coverage(float f, float width) {
    float fw = fwidth(f);
    float d = abs(fract(f - 0.5) - 0.5) / max(fw, 1e-8);
    float cov = clamp(0.5 * width + 0.5 - d, 0.0, 1.0);
    // fade where levels crowd closer than ~3 px: avoids moire on steep walls
    return cov * (1.0 - smoothstep(0.2, 0.35, fw));
}

void main() {
#if defined(SHADOWS)
    float sun = sun_visibility(v_pos);   // the height field's own shadow, per pixel
#else
    float sun = 1.0;
#endif
#if defined(VERTEX_COLOR)
#if defined(VERTEX_SHADOWS)
    vec3 color = mix(v_shade, v_color, sun);
#else
    vec3 color = v_color;
#endif
    if (!gl_FrontFacing) color = v_under;   // a triangle seen from below (surface.vert)
#if defined(AFFINE)
    f_color = vec4(dither_ramp(color, v_ramp), 1.0);
#else
    f_color = vec4(dither(color), 1.0);
#endif
    return;
#else
    float v_s = v_attr.x, v_bad = v_attr.y;
    vec3 albedo = texture(u_cmap, vec2(clamp(v_s, 0.0, 1.0), 0.5)).rgb;
    if (v_bad > 0.0) {
        float l = dot(albedo, vec3(0.2126, 0.7152, 0.0722));
        albedo = mix(albedo, mix(vec3(l), u_bad_color, 0.7), clamp(v_bad, 0.0, 1.0));
    }
#if defined(GRID)
    {
        vec2 g = (v_pos.xy - u_grid_lo) / u_grid_step;
        float c = max(line_coverage(g.x, u_grid_width), line_coverage(g.y, u_grid_width));
        albedo = mix(albedo, u_grid_color.rgb, c * u_grid_color.a);
    }
#endif
#if defined(CONTOURS)
    {
        float c = line_coverage((v_pos.z - u_contour_lo) / u_contour_step, u_contour_width);
        albedo = mix(albedo, u_contour_color.rgb, c * u_contour_color.a);
    }
#endif
#if defined(VERTEX_LIGHTING)
#if defined(VERTEX_SHADOWS)
    vec3 c = albedo * (v_diffuse + sun * v_key_diffuse) + v_add + sun * v_key_add;
#else
    vec3 c = albedo * v_diffuse + v_add;
#endif
    if (!gl_FrontFacing) c = v_under;   // a triangle seen from below (surface.vert)
#if defined(FOG)
    c = mix(c, u_fog_color, v_attr.z);
#endif
#else
    vec3 n = normalize(v_n);
    if (!gl_FrontFacing) n = -n;     // two-sided: views from below are lit
    g_occlusion = v_attr.w;
    g_bounce = v_attr.z;
    vec3 c = apply_fog(shade(albedo, n, v_pos, v_light, 0.0, !gl_FrontFacing, sun), v_pos);
#endif
    f_color = vec4(finish(c), 1.0);
#endif
}
