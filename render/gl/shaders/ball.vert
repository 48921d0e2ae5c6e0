#version 330 core
// Unit sphere placed at u_center with radius u_radius.
in vec3 in_pos;
uniform mat4 u_mvp;
uniform mat4 u_light_mvp;
uniform vec3 u_center;
uniform float u_radius;
out vec3 v_pos;
out vec3 v_n;
out vec4 v_light;
void main() {
    vec3 p = u_center + u_radius * in_pos;
    v_pos = p;
    v_n = in_pos;
    v_light = u_light_mvp * vec4(p, 1.0);
    gl_Position = u_mvp * vec4(p, 1.0);
}
