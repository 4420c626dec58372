"""What reviewing a change needs beyond rendering: a manifest read at a git ref, planned, and
compared across refs or environments. The pure parts (Blueprint diffs and their rendering) are
in engine/plan; this package is where loading, planning and git meet.
"""
