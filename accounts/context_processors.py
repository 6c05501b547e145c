from accounts.roles import user_role


def roles(request) -> dict:
    role = user_role(getattr(request, "user", None))
    return {"user_role": role.value if role else ""}
