#version 330 core
#include "common.glsl"
in vec3 v_pos;
in vec3 v_n;
in vec2 v_top;
uniform sampler2D u_cmap;    // 256 x 1, linear rgb
uniform vec3 u_base_color;   // linear
uniform float u_base_z;      // world z of the plinth's bottom
uniform float u_base_top;    // world z where the walls start (the film's lowest height)
uniform float u_band;        // world height of the colored band under the surface's edge
out vec4 f_color;
void main() {
    // a cut through the terrain: the surface's color runs a short way down the wall
    // (the edge reads as the top of a solid, not a sheet), then the plinth's material
    vec3 edge = texture(u_cmap, vec2(clamp(v_top.x, 0.0, 1.0), 0.5)).rgb;
    float below = v_top.y - v_pos.z;
    vec3 albedo = mix(edge * 0.8, u_base_color, smoothstep(0.0, u_band, below));
    // a studio fall-off: the walls darken toward the bottom, as if standing on a floor
    // that sees little sky
    float up = clamp((v_pos.z - u_base_z) / max(u_base_top - u_base_z, 1e-6), 0.0, 1.0);
    g_occlusion = mix(0.45, 1.0, sqrt(up));
    vec3 c = shade(albedo, normalize(v_n), v_pos, vec4(0.0), 0.0, false, 1.0);
    f_color = vec4(finish(apply_fog(c, v_pos)), 1.0);
}
