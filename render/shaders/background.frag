#version 330 core
#include "common.glsl"
in vec2 v_uv;
in float v_ndc_y;
uniform vec3 u_top;        // linear
uniform vec3 u_bottom;     // linear
out vec4 f_color;
void main() {
    float t = clamp(v_ndc_y * 0.5 + 0.5, 0.0, 1.0);
    // blend in linear light, smoothed so the horizon band is soft
    vec3 c = mix(u_bottom, u_top, smoothstep(0.0, 1.0, t));
    f_color = vec4(dither(encode_srgb(c)), 1.0);
}
