"""lossfilm render side: mesh stage, camera, GL renderer, encoder, stills and the CLI."""
