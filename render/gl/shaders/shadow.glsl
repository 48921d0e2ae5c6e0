// Shadow-map lookup with percentage-closer filtering (PCF).
uniform int u_shadows;
uniform sampler2DShadow u_shadow_map;
uniform float u_shadow_texel;

float shadow_factor(vec4 light_clip, float ndotl) {
    if (u_shadows == 0) return 1.0;
    vec3 sc = light_clip.xyz / light_clip.w * 0.5 + 0.5;
    if (any(lessThan(sc, vec3(0.0))) || any(greaterThan(sc, vec3(1.0)))) return 1.0;
    // slope-scaled bias: grazing light needs more to avoid acne
    float bias = mix(2.5, 0.6, ndotl) * u_shadow_texel;
    float z = sc.z - bias;
    // 3x3 PCF over hardware-filtered (bilinear compare) taps: a soft 4-texel penumbra
    float s = 0.0;
    for (int i = -1; i <= 1; ++i)
        for (int j = -1; j <= 1; ++j)
            s += texture(u_shadow_map, vec3(sc.xy + vec2(i, j) * 1.25 * u_shadow_texel, z));
    return s / 9.0;
}

