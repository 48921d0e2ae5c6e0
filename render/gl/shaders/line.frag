#version 330 core
in float g_edge;
uniform vec4 u_color;      // sRGB rgb, opacity
uniform float u_width;     // px
out vec4 f_color;
void main() {
    float hw = 0.5 * u_width + 1.0;
    float d = abs(g_edge) * hw;                       // px from the center line
    float a = clamp(0.5 * u_width + 0.5 - d, 0.0, 1.0) * u_color.a;
    f_color = vec4(u_color.rgb * a, a);               // premultiplied
}
