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


// The height field's shadow on itself (render/mesh/sunlight.py): four shadow sheets over
// the plane, one per band of the key light's disk, bilinear. A point sees a band from its
// sheet up, faded in over the distance to the neighbouring sheets (a linear penumbra for
// one caster). The point's own height is compared, so the edge lies where the drawn
// surface crosses the sheets: smooth on a faceted steep wall.
uniform sampler2D u_sun_map;     // the sheets, lowest first (world z), on a grid turned to the light
uniform vec3 u_sun_u;            // uv = (dot(u_sun_u, (x, y, 1)), dot(u_sun_v, (x, y, 1)))
uniform vec3 u_sun_v;
uniform float u_sun_ramp;        // the narrowest fade, world z

float sun_visibility(vec3 pos) {
    vec3 xy1 = vec3(pos.xy, 1.0);
    vec4 s = textureLod(u_sun_map, vec2(dot(u_sun_u, xy1), dot(u_sun_v, xy1)), 0.0);
    vec3 gap = abs(s.yzw - s.xyz);
    gap *= 1.0 - step(1e20, gap);    // a neighbour with nothing ahead says nothing
    vec4 w = max(vec4(gap.x, max(gap.x, gap.y), max(gap.y, gap.z), gap.z), vec4(u_sun_ramp));
    return dot(clamp((pos.z - s) / w + 0.5, 0.0, 1.0), vec4(0.25));
}
