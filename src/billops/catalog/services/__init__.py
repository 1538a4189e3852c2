"""Every write on the catalog: tax codes and rates (tax_codes.py), products (products.py), price lists
and customers' rates (prices.py)."""

from billops.catalog.services.prices import (
    assign_price_list,
    create_price_list,
    end_customer_price,
    remove_list_price,
    set_customer_price,
    set_list_price,
)
from billops.catalog.services.products import change_product, create_product, deactivate_product
from billops.catalog.services.tax_codes import (
    ImportResult,
    add_tax_rate,
    create_tax_code,
    import_tax_rates,
    seed_tax_codes,
    shipped_rate_files,
)

__all__ = [
    "ImportResult",
    "add_tax_rate",
    "assign_price_list",
    "change_product",
    "create_price_list",
    "create_product",
    "create_tax_code",
    "deactivate_product",
    "end_customer_price",
    "import_tax_rates",
    "remove_list_price",
    "seed_tax_codes",
    "set_customer_price",
    "set_list_price",
    "shipped_rate_files",
]
