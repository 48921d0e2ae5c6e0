#version 330 core
#include "common.glsl"
// The floor: lit like the rest (lighting.glsl), the key light's shadow from the shadow
// map, a contact shadow around the footprint of what stands on it, and the mirror image
// of the scene (drawn beforehand from below the floor, render/gl/floor.py) blurred over
// a disk and faded by Fresnel. It fades out toward u_floor_radius, into the background.
in vec3 v_pos;
#if defined(SHADOWS)
in vec4 v_light;
#else
const vec4 v_light = vec4(0.0);
#endif
uniform vec3 u_floor_color;     // linear
uniform vec2 u_floor_center;
uniform float u_floor_radius;   // where it has faded out, world units
uniform vec4 u_footprint;       // lo.xy, hi.xy of the landscape standing on it
uniform float u_contact;        // reach of the contact shadow, world units
uniform float u_floor_gap;      // height of what stands on it above the floor
uniform float u_reflect;
#if defined(REFLECTION)
uniform sampler2D u_reflection; // sRGB, premultiplied
uniform vec4 u_reflection_map;  // gl_FragCoord.xy * map.xy + map.zw = reflection uv
uniform vec2 u_blur;            // blur radius in reflection uv
// a Poisson disk of 12 points in the unit disk (blue noise: no visible pattern at the radius)
const vec2 DISK[12] = vec2[](
    vec2(-0.326, -0.406), vec2(-0.840, -0.074), vec2(-0.696, 0.457), vec2(-0.203, 0.621),
    vec2(0.962, -0.195), vec2(0.473, -0.480), vec2(0.519, 0.767), vec2(0.185, -0.893),
    vec2(0.507, 0.064), vec2(0.896, 0.412), vec2(-0.322, -0.933), vec2(-0.792, -0.598));
#endif
out vec4 f_color;

void main() {
    vec2 out_of = max(max(u_footprint.xy - v_pos.xy, v_pos.xy - u_footprint.zw), 0.0);
    float d = length(vec2(length(out_of), u_floor_gap));
    g_occlusion = 1.0 - 0.6 * exp(-d / max(u_contact, 1e-6));
    vec3 c = tonemap(apply_fog(shade(u_floor_color, vec3(0.0, 0.0, 1.0), v_pos, v_light, 0.0, false, -1.0), v_pos));
#if defined(REFLECTION)
    vec2 uv = gl_FragCoord.xy * u_reflection_map.xy + u_reflection_map.zw;
    vec4 r = texture(u_reflection, uv);
    for (int i = 0; i < 12; ++i) r += texture(u_reflection, uv + DISK[i] * u_blur);
    r /= 13.0;
    float nv = clamp(normalize(u_eye - v_pos).z, 0.0, 1.0);
    float k = u_reflect * mix(0.35, 1.0, pow(1.0 - nv, 3.0));   // Fresnel, softened
    c = c * (1.0 - k * r.a) + k * r.rgb * r.rgb;                  // r.rgb^2 ~ sRGB to linear
#endif
    float fade = 1.0 - smoothstep(0.1, 1.0, distance(v_pos.xy, u_floor_center) / u_floor_radius);
    fade *= fade;
    f_color = vec4(dither(encode_srgb(c)) * fade, fade);
}
