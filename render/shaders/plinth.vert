#version 330 core
// Side walls and bottom of the plinth under the surface (render/plinth.py).
in vec3 in_pos;
in vec3 in_n;
in vec2 in_top;              // colormap coordinate and world z of the surface edge above
uniform mat4 u_mvp;
out vec3 v_pos;
out vec3 v_n;
out vec2 v_top;
void main() {
    v_pos = in_pos;
    v_n = in_n;
    v_top = in_top;
    gl_Position = u_mvp * vec4(in_pos, 1.0);
}
