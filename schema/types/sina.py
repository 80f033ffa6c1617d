"""How a client offers Sina sign-in (integrations/sina.py)."""

import strawberry


@strawberry.type(description="Sign-in through Sina (سینا), the government's single sign-on, for main leaders.")
class SinaSignIn:
    url: str = strawberry.field(
        description=(
            "Absolute address that starts the sign-in: open it in the browser (a top-level navigation, "
            "not fetch). `?next=` may name where to return on this host or the frontend's."
        )
    )
