#version 330 core
// The floor: one large square at z = u_floor_z (render/gl/floor.py), shaded per pixel
// (floor.frag): the key light's shadow and the reflection both have edges.
in vec2 in_xy;
uniform mat4 u_mvp;
uniform mat4 u_light_mvp;
uniform float u_floor_z;
out vec3 v_pos;
#if defined(SHADOWS)
out vec4 v_light;
#endif
void main() {
    v_pos = vec3(in_xy, u_floor_z);
#if defined(SHADOWS)
    v_light = u_light_mvp * vec4(v_pos, 1.0);
#endif
    gl_Position = u_mvp * vec4(v_pos, 1.0);
}
