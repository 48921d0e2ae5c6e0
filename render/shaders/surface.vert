#version 330 core
// Height-field vertex: x, y static; height, normal, colormap coordinate, invalid flag per frame.
in vec2 in_xy;
in float in_h;
in vec3 in_n;
in float in_s;
in float in_bad;

uniform mat4 u_mvp;
uniform mat4 u_light_mvp;

out vec3 v_pos;
out vec3 v_n;
out float v_s;
out float v_bad;
out vec4 v_light;

void main() {
    vec3 p = vec3(in_xy, in_h);
    v_pos = p;
    v_n = in_n;
    v_s = in_s;
    v_bad = in_bad;
    v_light = u_light_mvp * vec4(p, 1.0);
    gl_Position = u_mvp * vec4(p, 1.0);
}
