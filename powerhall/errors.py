"""Domain exceptions. The CLI turns them into a one-line reason and a non-zero exit;
the API (later) maps them to its single JSON error shape."""


class PowerhallError(Exception):
    """Base of every error a user can act on; its message is the whole explanation."""


class ContractError(PowerhallError):
    """An input file cannot be read as the contract table it claims to be."""


class TariffError(PowerhallError):
    """A tariff file is invalid, or a tariff cannot bill the readings it was given."""


class TipsError(PowerhallError):
    """A tips catalogue file is invalid."""


class NotFoundError(PowerhallError):
    """A named customer, tariff or table does not exist."""


class InvalidRequestError(PowerhallError):
    """A request (a CLI option, an API body) asks for something that cannot be done."""
