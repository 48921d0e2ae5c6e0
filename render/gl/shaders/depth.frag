#version 330 core
// Depth only: the fixed pipeline writes gl_FragCoord.z.
void main() {}
