import os

import hello_dep


def main() -> None:
    print(f"{hello_dep.GREETING} (from {os.environ.get('GREETING_FROM', '?')})")


if __name__ == "__main__":
    main()
