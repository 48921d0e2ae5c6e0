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
uniform float u_gloss;       // F0 of the dielectric
uniform float u_metalness;
uniform float u_alpha;       // GGX alpha = roughness^2
uniform float u_env;         // 0 = no environment reflection, 1 = sky dome, 2 = studio dome
uniform float u_fog_density; // per plane size
uniform float u_plane_size;
uniform vec3 u_fog_color;    // linear
uniform float u_mirror;      // undersides: 1 = lit by the mirrored lights, 0 = as they are (see shade_parts)
uniform float u_occlusion_direct;  // fraction of the ambient occlusion applied to the key light

// Sky visibility of the point being shaded (ambient occlusion, 1 = open sky): set before
// shade() by shaders that know it (the surface: render/occlusion.py per vertex).
float g_occlusion = 1.0;
// The key light bounced into the point off its surroundings (render/mesh/bounce.py), per
// unit key light and albedo; u_bounce is the key light times the surroundings' albedo.
float g_bounce = 0.0;
uniform vec3 u_bounce;

// Radiance of the procedural environment along r (linear): a sky dome from ground to
// sky colour (the dome whose integral dome_fraction() is), or a dark studio dome
// with a large softbox above the key side and a thin strip light opposite.
vec3 environment(vec3 r, vec3 key_dir) {
    if (u_env < 0.5) return vec3(0.0);
    vec3 dome = u_ambient * mix(u_ground, u_sky, smoothstep(-0.3, 0.6, r.z));
    if (u_env < 1.5) return dome;
    vec3 box = normalize(vec3(key_dir.xy * 0.6, 1.0));
    float softbox = smoothstep(0.80, 0.93, dot(r, box));
    float strip = smoothstep(0.96, 0.99, dot(r, normalize(vec3(-key_dir.xy, 0.35))));
    return 0.35 * dome + u_key_color * (0.35 * softbox + 0.2 * strip);
}

// The dome's irradiance on a surface whose normal rises nz, as a fraction of the way from
// ground to sky colour (the sky dome of environment(), whose diffuse light this is): its
// cosine-weighted integral, a quartic fitted within 0.0015 (tests/render/test_looks.py
// integrates it). The dome dims toward the horizon, so a slope gets less than a
// hemisphere light's 0.5 + 0.5 nz (a step at the horizon: 0.65 against 0.75 at 60 deg);
// with no environment (u_env 0) the ambient light is that step.
float dome_fraction(float nz) {
    if (u_env < 0.5) return 0.5 + 0.5 * nz;
    float z2 = nz * nz;
    return 0.40726 + 0.4685 * nz + z2 * (0.03691 + 0.02722 * z2);
}

// below == true shades an underside. Seen from below the surface (u_mirror = 1: the eye
// under the frame's lowest point), the lights are mirrored through the plane (the shadow
// map only knows the lit top side), so the view from below reads as clearly as the one
// from above instead of a black silhouette. Seen from above, through a cut edge
// (u_mirror = 0), an underside is lit as it is: by the ground's ambient light only.
//
// The light is returned in two parts, shade() = key * shadow + rest: the key light as if
// nothing shadowed it, and everything else. Dense grids light their vertices and leave
// the key light's shadow to each pixel (surface.vert).
void shade_parts(vec3 albedo, vec3 n, vec3 pos, float emissive, bool below, out vec3 key_part,
                 out vec3 rest) {
    vec3 v = normalize(u_eye - pos);
    vec3 key_dir = below ? vec3(u_key_dir.xy, -u_key_dir.z) : u_key_dir;
    float ndotl = max(dot(n, key_dir), 0.0);
    // GGX microfacets with Schlick's Fresnel and the height-correlated Smith visibility;
    // metals tint their reflection with the albedo and lose their diffuse part
    vec3 f0 = mix(vec3(u_gloss), albedo, u_metalness);
    vec3 base = albedo * (1.0 - u_metalness);
    vec3 h = normalize(key_dir + v);
    float nv = max(dot(n, v), 1e-4);
    float nh = max(dot(n, h), 0.0);
    float a2 = u_alpha * u_alpha;
    float dd = nh * nh * (a2 - 1.0) + 1.0;
    float ggx = a2 / (3.14159265 * dd * dd);
    float vis = 0.5 / (ndotl * sqrt(nv * nv * (1.0 - a2) + a2) + nv * sqrt(ndotl * ndotl * (1.0 - a2) + a2) + 1e-5);
    float vh = 1.0 - max(dot(v, h), 0.0);
    float vh2 = vh * vh;
    vec3 spec = ggx * vis * (f0 + (1.0 - f0) * (vh2 * vh2 * vh));
    // occlusion darkens the indirect light fully and the key light partly: a contact
    // shadow in creases finer than the shadow map resolves
    key_part = u_key_color * mix(1.0, g_occlusion, u_occlusion_direct) * ndotl * (base + spec);
    // fill: opposite azimuth, from higher up, cool tint, no shadow
    vec3 fill_dir = below ? vec3(u_fill_dir.xy, -u_fill_dir.z) : u_fill_dir;
    vec3 fill = u_fill * u_sky * base * max(dot(n, fill_dir), 0.0);
    // image-based light from the procedural dome: its irradiance (the hemisphere term)
    // lights the diffuse part, its radiance along the reflection the specular part,
    // blurred toward the normal as the surface roughens
    float up = below ? mix(n.z, -n.z, u_mirror) : n.z;
    vec3 amb = u_ambient * base * mix(u_ground, u_sky, dome_fraction(up));
    vec3 r = normalize(mix(reflect(-v, n), n, u_alpha));
    if (below) r.z = -r.z;
    float nv5 = (1.0 - nv) * (1.0 - nv);
    nv5 = nv5 * nv5 * (1.0 - nv);
    vec3 env = (f0 + (max(vec3(1.0 - sqrt(u_alpha)), f0) - f0) * nv5) * environment(r, key_dir);
    float fres = 1.0 - nv;
    fres = fres * fres * fres;
    vec3 rim = u_rim * fres * mix(albedo, u_sky, 0.5);
    // light that bounces inside a crease gives some of the occluded light back, more on a
    // bright surface: the multi-bounce fit of ground-truth AO (Jimenez et al. 2016)
    vec3 ca = 2.0404 * base - 0.3324, cb = -4.7951 * base + 0.6417, cc = 2.7552 * base + 0.6903;
    vec3 ao = max(vec3(g_occlusion), ((g_occlusion * ca + cb) * g_occlusion + cc) * g_occlusion);
    vec3 bounce = g_bounce * u_bounce * base;  // off the surroundings above (render/mesh/bounce.py)
    if (below) {  // seen from above, nothing but the ground's light reaches an underside
        key_part *= u_mirror;
        fill *= u_mirror;
        env *= u_mirror;
        rim *= u_mirror;
        bounce *= u_mirror;
    }
    rest = ao * (fill + amb + rim + env) + bounce + emissive * albedo;
}

// Seen fraction of the key light: 1 from below (the mirrored key has no shadow); else
// vertex_shadow, the visibility already known where shade() runs (the whole shadow with
// VERTEX_SHADOWS: dense grids, the floor), with SHADOWS times the shadow map's, looked
// up here (the spheres; the height field's own shadow is in vertex_shadow).
float key_shadow(vec4 light_clip, vec3 n, bool below, float vertex_shadow) {
    if (below) return 1.0;
    float ndotl = max(dot(n, u_key_dir), 0.0);
    // Shadow variants are compiled in or out (#define): llvmpipe runs both sides of a
    // branch on a uniform, so an unused PCF loop would still cost its 9 taps per pixel.
#if defined(VERTEX_SHADOWS)
    return ndotl > 0.0 ? vertex_shadow : 0.0;
#elif defined(SHADOWS)
    return ndotl > 0.0 ? shadow_factor(light_clip, ndotl) * vertex_shadow : 0.0;
#else
    return 1.0;
#endif
}

vec3 shade(vec3 albedo, vec3 n, vec3 pos, vec4 light_clip, float emissive, bool below,
           float vertex_shadow) {
    vec3 key_part, rest;
    shade_parts(albedo, n, pos, emissive, below, key_part, rest);
    return key_part * key_shadow(light_clip, n, below, vertex_shadow) + rest;
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

// AgX-like display transform (after Troy Sobotka's AgX as in Blender 4; the fitted
// sigmoid of B. Wrensch's "minimal AgX"): inset into a rendering space, log2 encoding
// over 16.5 stops, sigmoid, outset. Bright saturated light drifts toward white instead
// of clipping to a flat primary. Returns linear light (the curve outputs a ~2.2 display
// encoding, undone here so encode_srgb stays the one output encoding).
vec3 agx_tonemap(vec3 c) {
    const mat3 inset = mat3(0.842479062253094, 0.0423282422610123, 0.0423756549057051,
                            0.0784335999999992, 0.878468636469772, 0.0784336,
                            0.0792237451477643, 0.0791661274605434, 0.879142973793104);
    const mat3 outset = mat3(1.19687900512017, -0.0528968517574562, -0.0529716355144438,
                             -0.0980208811401368, 1.15190312990417, -0.0980434501171241,
                             -0.0990297440797205, -0.0989611768448433, 1.15107367264116);
    const float min_ev = -12.47393, max_ev = 4.026069;
    vec3 x = clamp((log2(max(inset * c, vec3(1e-10))) - min_ev) / (max_ev - min_ev), 0.0, 1.0);
    vec3 x2 = x * x, x4 = x2 * x2;
    x = 15.5 * x4 * x2 - 40.14 * x4 * x + 31.96 * x4 - 6.868 * x2 * x + 0.4298 * x2 + 0.1191 * x - 0.00232;
    // the "punchy" look of Blender's AgX (power 1.35, saturation 1.4 on display values):
    // plain AgX reads washed out on a colormap, whose colors carry the data
    vec3 d = pow(max(outset * x, vec3(0.0)), vec3(1.35));
    float luma = dot(d, vec3(0.2126, 0.7152, 0.0722));
    d = max(luma + 1.4 * (d - luma), vec3(0.0));
    return pow(d, vec3(2.2));
}

vec3 tonemap(vec3 c) {
    c *= u_exposure;
#if defined(FILMIC)
    // ACES filmic fit (Narkowicz 2015); the 0.6 maps scene-referred mid grey to its input
    c *= 0.6;
    c = (c * (2.51 * c + 0.03)) / (c * (2.43 * c + 0.59) + 0.14);
#elif defined(AGX)
    c = agx_tonemap(c);
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
