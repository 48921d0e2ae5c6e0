// Shared shading: lights, shadow lookup, tone mapping and output encoding.
// Included by surface.frag and ball.frag (render/renderer.py resolves #include).

uniform vec3 u_eye;
uniform vec3 u_key_dir;      // unit vector toward the key light
uniform vec3 u_key_color;    // linear, times intensity
uniform float u_fill;
uniform float u_rim;
uniform float u_ambient;
uniform vec3 u_sky;          // linear
uniform vec3 u_ground;       // linear
uniform float u_shininess;
uniform float u_gloss;
uniform float u_exposure;
uniform int u_tonemap;       // 0 none, 1 filmic
uniform float u_fog_density; // per plane size
uniform float u_plane_size;
uniform vec3 u_fog_color;    // linear
uniform int u_shadows;
uniform sampler2DShadow u_shadow_map;
uniform float u_shadow_texel;
uniform float u_dither;      // amplitude in output code values (1/255 for 8 bit, 0 for 16 bit)

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

// below == true shades an underside seen from below: the key light is mirrored through
// the plane (the shadow map only knows the lit top side), so the view from below reads
// as clearly as the one from above instead of a black silhouette.
vec3 shade(vec3 albedo, vec3 n, vec3 pos, vec4 light_clip, float emissive, bool below) {
    vec3 v = normalize(u_eye - pos);
    vec3 key_dir = below ? vec3(u_key_dir.xy, -u_key_dir.z) : u_key_dir;
    float ndotl = max(dot(n, key_dir), 0.0);
    float sh = below ? 1.0 : (ndotl > 0.0 ? shadow_factor(light_clip, ndotl) : 0.0);
    vec3 h = normalize(key_dir + v);
    // normalized Blinn-Phong: energy roughly constant as the highlight narrows
    float spec = pow(max(dot(n, h), 0.0), u_shininess) * (u_shininess + 8.0) / (8.0 * 3.14159265);
    vec3 key = u_key_color * sh * (albedo * ndotl + u_gloss * spec * ndotl);
    // fill: opposite azimuth, from higher up, cool tint, no shadow
    vec3 fill_dir = normalize(vec3(-key_dir.xy, (max(abs(key_dir.z), 0.3) + 0.6) * sign(key_dir.z)));
    vec3 fill = u_fill * u_sky * albedo * max(dot(n, fill_dir), 0.0);
    float up = below ? -n.z : n.z;
    vec3 amb = u_ambient * albedo * mix(u_ground, u_sky, up * 0.5 + 0.5);
    float fres = pow(1.0 - max(dot(n, v), 0.0), 3.0);
    vec3 rim = u_rim * fres * mix(albedo, u_sky, 0.5);
    return key + fill + amb + rim + emissive * albedo;
}

vec3 apply_fog(vec3 c, vec3 pos) {
    float d = length(u_eye - pos) / max(u_plane_size, 1e-9);
    float f = 1.0 - exp(-u_fog_density * max(d - 0.5, 0.0));
    return mix(c, u_fog_color, f);
}

vec3 tonemap(vec3 c) {
    c *= u_exposure;
    if (u_tonemap == 1) {
        // ACES filmic fit (Narkowicz 2015); the 0.6 maps scene-referred mid grey to its input
        c *= 0.6;
        c = clamp((c * (2.51 * c + 0.03)) / (c * (2.43 * c + 0.59) + 0.14), 0.0, 1.0);
    }
    return clamp(c, 0.0, 1.0);
}

vec3 encode_srgb(vec3 c) {
    vec3 lo = c * 12.92;
    vec3 hi = 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055;
    return mix(lo, hi, step(vec3(0.0031308), c));
}

vec3 dither(vec3 c) {
    // interleaved gradient noise: breaks 8-bit banding in smooth gradients, deterministic
    float n = fract(52.9829189 * fract(dot(gl_FragCoord.xy, vec2(0.06711056, 0.00583715))));
    return c + (n - 0.5) * u_dither;
}

vec3 finish(vec3 linear_color) {
    return dither(encode_srgb(tonemap(linear_color)));
}
