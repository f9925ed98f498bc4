"""CLI subcommands, one module per area; each defines ``register(top, groups)``.

``top`` is the top-level subparsers object; ``groups`` holds the shared
``rank`` and ``explain`` subparsers. A handler is set with
``parser.set_defaults(handler=fn)``; ``fn(args)`` returns the exit status.
"""
