#version 330 core
// Shadow pass for the ball.
in vec3 in_pos;
uniform mat4 u_light_mvp;
uniform vec3 u_center;
uniform float u_radius;
void main() { gl_Position = u_light_mvp * vec4(u_center + u_radius * in_pos, 1.0); }
