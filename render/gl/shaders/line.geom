#version 330 core
// Expand each segment into a quad of constant on-screen width (px), with square caps so
// consecutive segments overlap instead of leaving gaps at the joints.
layout(lines) in;
layout(triangle_strip, max_vertices = 4) out;
uniform vec2 u_viewport;   // px
uniform float u_width;     // px
out float g_edge;          // -1..1 across the ribbon, for anti-aliased edges
void main() {
    vec4 a = gl_in[0].gl_Position;
    vec4 b = gl_in[1].gl_Position;
    if (a.w <= 0.0 || b.w <= 0.0) return;   // behind the camera
    vec2 sa = a.xy / a.w * u_viewport * 0.5;
    vec2 sb = b.xy / b.w * u_viewport * 0.5;
    vec2 d = sb - sa;
    float len = length(d);
    d = len > 1e-6 ? d / len : vec2(1.0, 0.0);
    vec2 nrm = vec2(-d.y, d.x);
    float hw = 0.5 * u_width + 1.0;          // +1 px of fringe for the edge ramp
    vec2 ext = d * 0.5 * u_width;
    vec2 offs[4] = vec2[4](-ext + nrm * hw, -ext - nrm * hw, ext + nrm * hw, ext - nrm * hw);
    vec4 pts[4] = vec4[4](a, a, b, b);
    float edges[4] = float[4](1.0, -1.0, 1.0, -1.0);
    for (int i = 0; i < 4; ++i) {
        vec4 p = pts[i];
        p.xy += offs[i] / (u_viewport * 0.5) * p.w;
        gl_Position = p;
        g_edge = edges[i];
        EmitVertex();
    }
    EndPrimitive();
}
