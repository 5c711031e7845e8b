"""Email address validation with ``email-validator``, for the addresses admins register.

A user is matched to the ``email`` claim of their tokens, so an address must be one an identity
provider can issue: the syntax of RFC 5321/5322 as mail systems accept it (no display names, no
quoted local parts, no control characters or white space) with a domain that has a dot. No DNS
lookup is made: gharts must not depend on the network to register a person.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


def normalized_email_address(address: str) -> str:
    """Return ``address`` normalised (the domain's IDNA form lower-cased), or raise ``ValueError``.

    The ``ValueError`` message is a sentence saying what is wrong with the address.
    """
    try:
        checked = validate_email(
            address, check_deliverability=False, allow_quoted_local=False, allow_display_name=False
        )
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None
    return checked.normalized
