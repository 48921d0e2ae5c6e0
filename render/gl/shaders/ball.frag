#version 330 core
#include "common.glsl"
in vec3 v_pos;
in vec3 v_n;
in vec4 v_light;
uniform vec3 u_ball_color;   // linear
uniform float u_glow;
uniform float u_sun;         // the surface's own shadow where the sphere rests (1 = lit)
out vec4 f_color;
void main() {
    vec3 c = shade(u_ball_color, normalize(v_n), v_pos, v_light, u_glow, false, u_sun);
    f_color = vec4(finish(apply_fog(c, v_pos)), 1.0);
}
