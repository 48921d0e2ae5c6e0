#version 330 core
// Side walls and bottom of the plinth under the surface (render/plinth.py), lit per
// vertex like a dense surface: the walls are flat, unshadowed and can cover a fifth of
// a 4K frame, where a per-pixel shade + tone curve cost more than the whole surface.
#include "lighting.glsl"
#include "dither.glsl"
in vec3 in_pos;
in vec3 in_n;
in vec2 in_top;              // colormap coordinate and world z of the surface edge above
uniform mat4 u_mvp;
uniform sampler2D u_cmap;    // 256 x 1, linear rgb
uniform vec3 u_base_color;   // linear
uniform float u_base_z;      // world z of the plinth's bottom
uniform float u_base_top;    // world z where the walls start (the film's lowest height)
uniform float u_band;        // world height of the colored band under the surface's edge
uniform float u_fade;        // world depth below the band over which the walls fade out (0 = solid)
out vec4 v_color;            // sRGB, premultiplied by the fade's alpha
void main() {
    // a cut through the terrain: the surface's color runs a short way down the wall
    // (the edge reads as the top of a solid, not a sheet), then the plinth's material
    vec3 edge = textureLod(u_cmap, vec2(clamp(in_top.x, 0.0, 1.0), 0.5), 0.0).rgb;
    float below = in_top.y - in_pos.z;
    vec3 albedo = mix(edge * 0.8, u_base_color, smoothstep(0.0, u_band, below));
    // a studio fall-off: the walls darken toward the bottom, as if standing on a floor
    // that sees little sky
    float up = clamp((in_pos.z - u_base_z) / max(u_base_top - u_base_z, 1e-6), 0.0, 1.0);
    g_occlusion = mix(0.45, 1.0, sqrt(up));
    vec3 c = shade(albedo, in_n, in_pos, vec4(0.0), 0.0, false, 1.0);
    // walls that fade out below the band: the surface stands on darkness, a slice of a
    // larger land, instead of on a block whose bottom takes the frame
    float alpha = u_fade > 0.0 ? 1.0 - smoothstep(u_band, u_band + u_fade, below) : 1.0;
    v_color = vec4(encode_srgb(tonemap(apply_fog(c, in_pos))) * alpha, alpha);
    gl_Position = u_mvp * vec4(in_pos, 1.0);
}
