#version 330 core
// A rectangle given in final-image pixels (origin top-left), mapped through u_post
// (final NDC -> this tile's clip space, including the readback flip).
in vec2 in_corner;          // 0..1
uniform vec4 u_rect;        // x, y, w, h in final-image px
uniform vec2 u_image;       // final image size px
uniform mat4 u_post;
out vec2 v_uv;
void main() {
    vec2 px = u_rect.xy + in_corner * u_rect.zw;
    vec2 ndc = vec2(px.x / u_image.x * 2.0 - 1.0, 1.0 - px.y / u_image.y * 2.0);
    v_uv = in_corner;
    gl_Position = u_post * vec4(ndc, 0.0, 1.0);
}
