// Lights, shadow lookup, fog, tone curve and sRGB: usable from vertex and fragment shaders.
// (render/renderer.py resolves #include; features are switched by #define.)
#include "shadow.glsl"

uniform vec3 u_eye;
uniform vec3 u_key_dir;      // unit vector toward the key light
uniform vec3 u_key_color;    // linear, times intensity
uniform float u_fill;
uniform vec3 u_fill_dir;     // unit vector toward the fill light (above the plane)
uniform float u_rim;
uniform float u_ambient;
uniform vec3 u_sky;          // linear
uniform vec3 u_ground;       // linear
uniform float u_shininess;
uniform float u_gloss;
uniform float u_fog_density; // per plane size
uniform float u_plane_size;
uniform vec3 u_fog_color;    // linear

// below == true shades an underside seen from below: the key light is mirrored through
// the plane (the shadow map only knows the lit top side), so the view from below reads
// as clearly as the one from above instead of a black silhouette.
// vertex_shadow >= 0 is a shadow factor already computed per vertex (dense grids).
vec3 shade(vec3 albedo, vec3 n, vec3 pos, vec4 light_clip, float emissive, bool below,
           float vertex_shadow) {
    vec3 v = normalize(u_eye - pos);
    vec3 key_dir = below ? vec3(u_key_dir.xy, -u_key_dir.z) : u_key_dir;
    float ndotl = max(dot(n, key_dir), 0.0);
    // Shadow variants are compiled in or out (#define): llvmpipe runs both sides of a
    // branch on a uniform, so an unused PCF loop would still cost its 9 taps per pixel.
    float sh = 1.0;
#if defined(VERTEX_SHADOWS)
    if (!below) sh = ndotl > 0.0 ? vertex_shadow : 0.0;
#elif defined(SHADOWS)
    if (!below) sh = ndotl > 0.0 ? shadow_factor(light_clip, ndotl) : 0.0;
#endif
    vec3 h = normalize(key_dir + v);
    // normalized Blinn-Phong: energy roughly constant as the highlight narrows
    float spec = pow(max(dot(n, h), 0.0), u_shininess) * (u_shininess + 8.0) / (8.0 * 3.14159265);
    vec3 key = u_key_color * sh * (albedo * ndotl + u_gloss * spec * ndotl);
    // fill: opposite azimuth, from higher up, cool tint, no shadow
    vec3 fill_dir = below ? vec3(u_fill_dir.xy, -u_fill_dir.z) : u_fill_dir;
    vec3 fill = u_fill * u_sky * albedo * max(dot(n, fill_dir), 0.0);
    float up = below ? -n.z : n.z;
    vec3 amb = u_ambient * albedo * mix(u_ground, u_sky, up * 0.5 + 0.5);
    float fres = 1.0 - max(dot(n, v), 0.0);
    fres = fres * fres * fres;
    vec3 rim = u_rim * fres * mix(albedo, u_sky, 0.5);
    return key + fill + amb + rim + emissive * albedo;
}

// Fraction of fog between the eye and pos (0 when fog is compiled out).
float fog_amount(vec3 pos) {
#if defined(FOG)
    float d = length(u_eye - pos) / max(u_plane_size, 1e-9);
    return 1.0 - exp(-u_fog_density * max(d - 0.5, 0.0));
#else
    return 0.0;
#endif
}

vec3 apply_fog(vec3 c, vec3 pos) {
#if defined(FOG)
    return mix(c, u_fog_color, fog_amount(pos));
#else
    return c;
#endif
}

uniform float u_exposure;

vec3 tonemap(vec3 c) {
    c *= u_exposure;
#if defined(FILMIC)
    // ACES filmic fit (Narkowicz 2015); the 0.6 maps scene-referred mid grey to its input
    c *= 0.6;
    c = (c * (2.51 * c + 0.03)) / (c * (2.43 * c + 0.59) + 0.14);
#endif
    return clamp(c, 0.0, 1.0);
}

vec3 encode_srgb(vec3 c) {
    // sRGB transfer curve from three square roots instead of pow (pow dominated the
    // per-pixel cost on llvmpipe); coefficients least-squares fitted with numpy to the
    // exact curve on [0.0031308, 1]: max error 0.15 code values of 255.
    vec3 s1 = sqrt(c);
    vec3 s2 = sqrt(s1);
    vec3 s3 = sqrt(s2);
    vec3 hi = 0.59151571 * s1 + 0.76914122 * s2 - 0.36010173 * s3;
    return mix(c * 12.92, hi, step(vec3(0.0031308), c));
}
