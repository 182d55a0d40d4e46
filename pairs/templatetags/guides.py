"""Guide bodies are plain text (blank lines separate paragraphs, "- " starts a bullet); this
turns one into blocks a template renders with autoescaping, so no markup ever gets through."""

from dataclasses import dataclass, field

from django import template

register = template.Library()


@dataclass
class Block:
    kind: str  # "p" or "ul"
    lines: list[str] = field(default_factory=list)


@register.filter
def guide_blocks(body: str) -> list[Block]:
    blocks: list[Block] = []
    current: Block | None = None
    for raw in body.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            current = None
            continue
        if line.startswith(("- ", "* ")):
            if current is None or current.kind != "ul":
                current = Block("ul")
                blocks.append(current)
            current.lines.append(line[2:].strip())
        elif current is not None and current.kind == "p":
            current.lines[0] += " " + line
        elif current is not None and current.kind == "ul":
            # A wrapped bullet continues the bullet above.
            current.lines[-1] += " " + line
        else:
            current = Block("p", [line])
            blocks.append(current)
    return blocks
