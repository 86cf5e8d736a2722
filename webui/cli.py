"""The `bulletins` command: a click group whose commands are thin calls into the packages.

Each command lives in its own module (`cli_*.py`) and is registered here.
"""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bulletin-search")
def main() -> None:
    """简报检索: full-text search for Chinese government bulletins."""


from webui.cli_parse import parse  # noqa: E402

main.add_command(parse)

from webui.cli_serve import demo, serve  # noqa: E402

main.add_command(serve)
main.add_command(demo)

from webui.cli_build import build, stats  # noqa: E402

main.add_command(build)
main.add_command(stats)

from webui.cli_search import search  # noqa: E402

main.add_command(search)

from webui.cli_users import users  # noqa: E402

main.add_command(users)
from webui.cli_themes import themes  # noqa: E402

main.add_command(themes)

from webui.cli_cluster import cluster  # noqa: E402

main.add_command(cluster)


if __name__ == "__main__":
    main()
