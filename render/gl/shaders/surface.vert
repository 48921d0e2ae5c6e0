#version 330 core
#include "lighting.glsl"
#include "dither.glsl"
// Height-field vertex: x, y static; height, normal, colormap coordinate, invalid flag per frame.
// Few varyings on purpose: on llvmpipe each one costs setup per triangle (520k at 512^2).
// Dense grids (a vertex every few pixels, finer than any lighting change):
//   VERTEX_LIGHTING  lights evaluated here as color = albedo * diffuse + add;
//   VERTEX_COLOR     also colormap, fog, tone curve and sRGB here (no lines to draw per
//                    pixel): the fragment shader only dithers one interpolated color.
//   AFFINE           (with VERTEX_COLOR, only when no triangle is clipped: the renderer
//                    checks the bounds against the frustum) the color is interpolated in
//                    screen space and the dither ramp comes from here, not gl_FragCoord:
//                    with no perspective-correct input and no fragment position llvmpipe
//                    interpolates neither 1/w nor the position (~8% of the 4K surface
//                    pass). A triangle spans a few pixels, so the affine color is within
//                    a code value or so of the perspective one.
//   VERTEX_SHADOWS   (with SHADOWS) the key light's part is kept apart (lit and shadowed
//                    colors, or its diffuse and added parts) and each pixel weighs it by
//                    the height field's shadow at its own position (shadow.glsl): on a
//                    steep wall a triangle spans many pixels, and a shadow interpolated
//                    from its vertices would draw the triangles as saw teeth. The
//                    spheres' shadow map is still read here, per vertex.
in vec2 in_xy;
in float in_h;
in vec3 in_n;
in float in_s;
in float in_bad;
#if defined(OCCLUSION)
in vec2 in_ao;               // sky visibility (render/mesh/occlusion.py), bounced key light
#endif

uniform mat4 u_mvp;
uniform mat4 u_light_mvp;
uniform sampler2D u_cmap;    // 256 x 1, linear rgb
uniform vec3 u_bad_color;    // linear

#if defined(VERTEX_COLOR) && defined(AFFINE)
noperspective out vec3 v_color;   // sRGB
noperspective out vec3 v_under;   // sRGB, where a triangle shows its underside
#if defined(VERTEX_SHADOWS)
noperspective out vec3 v_shade;   // sRGB, in the key light's shadow
noperspective out vec3 v_pos;
#define HAS_POS
#endif
#if defined(DITHER)
noperspective out float v_ramp;   // dot(window position, DITHER_RAMP), see dither.glsl
uniform vec2 u_viewport;          // framebuffer size in pixels
#endif
#elif defined(VERTEX_COLOR)
out vec3 v_color;            // sRGB
out vec3 v_under;            // sRGB, where a triangle shows its underside
#if defined(VERTEX_SHADOWS)
out vec3 v_shade;            // sRGB, in the key light's shadow
#endif
#elif defined(VERTEX_LIGHTING)
out vec3 v_diffuse;
out vec3 v_add;
out vec3 v_attr;             // colormap coordinate, invalid flag, fog
out vec3 v_under;            // linear, before fog: the light of an underside
#if defined(VERTEX_SHADOWS)
out vec3 v_key_diffuse;      // the key light's part, weighed per pixel by its shadow
out vec3 v_key_add;
#endif
#else
out vec3 v_n;
out vec4 v_attr;             // colormap coordinate, invalid flag, bounced key light, occlusion
#endif
#if !defined(HAS_POS) && (!defined(VERTEX_LIGHTING) || defined(CONTOURS) || defined(GRID) || defined(VERTEX_SHADOWS))
out vec3 v_pos;
#define HAS_POS
#endif
#if defined(SHADOWS) && !defined(VERTEX_SHADOWS)
out vec4 v_light;
#endif

vec3 albedo_of(float s, float bad) {
    vec3 albedo = textureLod(u_cmap, vec2(clamp(s, 0.0, 1.0), 0.5), 0.0).rgb;
    float l = dot(albedo, vec3(0.2126, 0.7152, 0.0722));
    return mix(albedo, mix(vec3(l), u_bad_color, 0.7), clamp(bad, 0.0, 1.0));
}

void main() {
    vec3 p = vec3(in_xy, in_h);
#if defined(OCCLUSION)
    g_occlusion = in_ao.x;
    g_bounce = in_ao.y;
#endif
#if defined(HAS_POS)
    v_pos = p;
#endif
#if defined(SHADOWS) && !defined(VERTEX_SHADOWS)
    v_light = u_light_mvp * vec4(p, 1.0);
#endif
#if defined(VERTEX_LIGHTING)
    // Each vertex is lit twice: as the top of the surface (in_n points up) and as its
    // underside (v_under, lit as shade() lights one). Which side a pixel shows is the
    // triangle's facing, known only to the fragment (gl_FrontFacing): a vertex whose normal
    // merely turns from the eye, on a crest or a silhouette seen from above, still belongs
    // to triangles that show their top, and lit as an underside it dotted every crest.
    vec3 n = in_n;
    vec3 under_key, under_rest;
    shade_parts(albedo_of(in_s, in_bad), -in_n, p, 0.0, true, under_key, under_rest);
    vec3 under = under_key + under_rest;   // the mirrored key light of an underside has no shadow
    // light = albedo * diffuse + add, each the key light's part (times its shadow) and the rest
    vec3 key_add, rest_add, key_one, rest_one;
    shade_parts(vec3(0.0), n, p, 0.0, false, key_add, rest_add);
    shade_parts(vec3(1.0), n, p, 0.0, false, key_one, rest_one);
    vec3 key_diffuse = key_one - key_add, rest_diffuse = rest_one - rest_add;
#if defined(VERTEX_SHADOWS)
    // the spheres' shadow map, per vertex (the height field's shadow is per pixel)
    float sh = key_shadow(vec4(0.0), n, false, shadow_factor(u_light_mvp * vec4(p, 1.0), max(dot(n, u_key_dir), 0.0)));
#else
    float sh = 1.0;
#endif
    key_diffuse *= sh;
    key_add *= sh;
#if !defined(VERTEX_SHADOWS)
    rest_diffuse += key_diffuse;
    rest_add += key_add;
#endif
#if defined(VERTEX_COLOR)
    vec3 albedo = albedo_of(in_s, in_bad);
    vec3 rest = albedo * rest_diffuse + rest_add;
    v_color = encode_srgb(tonemap(apply_fog(rest + albedo * key_diffuse + key_add, p)));
    v_under = encode_srgb(tonemap(apply_fog(under, p)));
#if defined(VERTEX_SHADOWS)
    v_shade = encode_srgb(tonemap(apply_fog(rest, p)));
#endif
#else
    v_diffuse = rest_diffuse;
    v_add = rest_add;
#if defined(VERTEX_SHADOWS)
    v_key_diffuse = key_diffuse;
    v_key_add = key_add;
#endif
    v_attr = vec3(in_s, in_bad, fog_amount(p));
    v_under = under;
#endif
#else
    v_n = in_n;
    v_attr = vec4(in_s, in_bad, g_bounce, g_occlusion);
#endif
    gl_Position = u_mvp * vec4(p, 1.0);
#if defined(VERTEX_COLOR) && defined(AFFINE) && defined(DITHER)
    v_ramp = dot((gl_Position.xy / gl_Position.w * 0.5 + 0.5) * u_viewport, DITHER_RAMP);
#endif
}
