"""The coordinators' web dashboard: who is waiting, who is overloaded, what newcomers struggle
with, and — with a recorded reason — what was said. Server-rendered, no front-end build."""
