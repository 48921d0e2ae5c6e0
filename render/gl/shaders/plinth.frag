#version 330 core
#include "common.glsl"
in vec4 v_color;             // sRGB premultiplied, lit per vertex (plinth.vert)
out vec4 f_color;
void main() {
    f_color = vec4(dither(v_color.rgb) * step(1e-3, v_color.a), v_color.a);
}
