#version 330 core
// The floor (render/gl/floor.py): a grid over a large square at z = u_floor_z. Its light
// changes slowly, so it is lit here, per vertex, twice: in the key light and in its
// shadow (tone curve and fog included); floor.frag looks the shadow map up per pixel and
// mixes the two, then adds the contact shadow and the reflection.
#include "lighting.glsl"
in vec2 in_xy;
uniform mat4 u_mvp;
uniform mat4 u_light_mvp;
uniform float u_floor_z;
uniform vec3 u_floor_color;     // linear
uniform vec2 u_floor_center;
uniform float u_floor_radius;   // where it has faded out, world units
out vec3 v_pos;
out vec3 v_lit;                 // display-linear, where the key light reaches
out vec3 v_shade;               // display-linear, in the key light's shadow
out float v_fade;
#if defined(SHADOWS)
out vec4 v_light;
#endif
void main() {
    vec3 p = vec3(in_xy, u_floor_z);
    v_pos = p;
    vec3 n = vec3(0.0, 0.0, 1.0);
    v_lit = tonemap(apply_fog(shade(u_floor_color, n, p, vec4(0.0), 0.0, false, 1.0), p));
    v_shade = tonemap(apply_fog(shade(u_floor_color, n, p, vec4(0.0), 0.0, false, 0.0), p));
    float fade = 1.0 - smoothstep(0.1, 1.0, distance(in_xy, u_floor_center) / u_floor_radius);
    v_fade = fade * fade;
#if defined(SHADOWS)
    v_light = u_light_mvp * vec4(p, 1.0);
#endif
    gl_Position = u_mvp * vec4(p, 1.0);
}
