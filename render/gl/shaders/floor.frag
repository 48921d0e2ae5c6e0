#version 330 core
#include "common.glsl"
// The floor's pixels: the key light's shadow from the shadow map (a wide 2x2 filter of
// bilinear compares: the floor lies far from what casts on it), a contact shadow around
// the footprint of what stands on it, and the mirror image of the scene (drawn before,
// from below the floor, into a texture small enough that its blur radius is a few
// texels: render/gl/floor.py) over a disk, faded by Fresnel.
in vec3 v_pos;
in vec3 v_lit;
in vec3 v_shade;
in float v_fade;
#if defined(SHADOWS)
in vec4 v_light;
#endif
uniform vec4 u_footprint;       // lo.xy, hi.xy of the landscape standing on it
uniform float u_contact;        // reach of the contact shadow, world units
uniform float u_floor_gap;      // height of what stands on it above the floor
uniform float u_reflect;
#if defined(REFLECTION)
uniform sampler2D u_reflection; // sRGB, premultiplied
uniform vec4 u_reflection_map;  // gl_FragCoord.xy * map.xy + map.zw = reflection uv
uniform vec2 u_blur;            // blur radius in reflection uv
// the centre and two rings (at 0.5 and 1 of the radius, turned against each other)
const vec2 DISK[7] = vec2[](vec2(0.0), vec2(0.5, 0.0), vec2(-0.25, 0.433), vec2(-0.25, -0.433),
                            vec2(-1.0, 0.0), vec2(0.5, 0.866), vec2(0.5, -0.866));
#endif
out vec4 f_color;

void main() {
    float sh = 1.0;
#if defined(SHADOWS)
    vec3 sc = v_light.xyz / v_light.w * 0.5 + 0.5;
    if (all(greaterThan(sc, vec3(0.0))) && all(lessThan(sc, vec3(1.0)))) {
        float z = sc.z - 1.5 * u_shadow_texel;
        vec2 o = 0.75 * vec2(u_shadow_texel);
        sh = 0.25 * (texture(u_shadow_map, vec3(sc.xy + vec2(-o.x, -o.y), z))
                   + texture(u_shadow_map, vec3(sc.xy + vec2(o.x, -o.y), z))
                   + texture(u_shadow_map, vec3(sc.xy + vec2(-o.x, o.y), z))
                   + texture(u_shadow_map, vec3(sc.xy + vec2(o.x, o.y), z)));
    }
#endif
    vec2 out_of = max(max(u_footprint.xy - v_pos.xy, v_pos.xy - u_footprint.zw), 0.0);
    float d = length(vec2(length(out_of), u_floor_gap));
    vec3 c = mix(v_shade, v_lit, sh) * (1.0 - 0.45 * exp(-d / max(u_contact, 1e-6)));
#if defined(REFLECTION)
    vec2 uv = gl_FragCoord.xy * u_reflection_map.xy + u_reflection_map.zw;
    vec4 r = vec4(0.0);
    for (int i = 0; i < 7; ++i) r += texture(u_reflection, uv + DISK[i] * u_blur);
    r /= 7.0;
    float nv = clamp(normalize(u_eye - v_pos).z, 0.0, 1.0);
    float k = u_reflect * mix(0.35, 1.0, pow(1.0 - nv, 3.0));   // Fresnel, softened
    c = c * (1.0 - k * r.a) + k * r.rgb * r.rgb;                  // r.rgb^2 ~ sRGB to linear
#endif
    f_color = vec4(dither(encode_srgb(c)) * v_fade, v_fade);
}
