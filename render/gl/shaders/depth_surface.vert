#version 330 core
// Shadow pass for the height field.
in vec2 in_xy;
in float in_h;
uniform mat4 u_light_mvp;
void main() { gl_Position = u_light_mvp * vec4(in_xy, in_h, 1.0); }
