#version 330 core
#include "common.glsl"
in vec3 v_color;             // sRGB, lit per vertex (plinth.vert)
out vec4 f_color;
void main() {
    f_color = vec4(dither(v_color), 1.0);
}
