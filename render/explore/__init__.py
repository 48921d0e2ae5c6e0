"""The Explorer: a scene's stored surfaces in the browser (viser), keyframe capture that
writes scenes, the descent ball, stills. May import every render room and the pipeline.
"""
