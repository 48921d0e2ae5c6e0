#version 330 core
#include "lighting.glsl"
// The background gradient as a strip of horizontal bands in final-image pixels, colored
// per vertex (smoothstep and sRGB here, not per pixel; the bands are far finer than the
// gradient changes). Drawn under the resolved picture, see SurfaceRenderer._draw_background.
in vec2 in_corner;          // 0..1 across and down the image
uniform vec2 u_image;       // final image size px
uniform mat4 u_post;
uniform vec3 u_top;         // linear
uniform vec3 u_bottom;      // linear
out vec3 v_color;           // sRGB
void main() {
    vec2 ndc = vec2(in_corner.x * 2.0 - 1.0, 1.0 - in_corner.y * 2.0);
    float t = clamp(ndc.y * 0.5 + 0.5, 0.0, 1.0);
    v_color = encode_srgb(mix(u_bottom, u_top, smoothstep(0.0, 1.0, t)));
    gl_Position = u_post * vec4(ndc, 0.0, 1.0);
}
