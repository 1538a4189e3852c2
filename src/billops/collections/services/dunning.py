"""Dunning: policies and their levels, a customer's policy and exclusion, the preview and the run.

A run plans exactly what its preview shows (`selectors.dunning.plan_dunning`) after locking every customer
with something past due, then sends each customer's notice (`services.dunning_notices.send_notice`), all in
one transaction: a run that cannot charge its fees (a closed period, a missing fee product) sends nothing.
An invoice gets each level once — the database refuses a second notice item of the same invoice and
level — so a second run on the same day sends only what the first could not (a promise broken since).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import json_safe, record_event
from billops.catalog.models import Product
from billops.catalog.services.products import create_product
from billops.catalog.validation import Problems, clean_code, clean_rate, clean_text
from billops.collections.models import (
    CollectionProfile,
    DunningLevel,
    DunningNotice,
    DunningPolicy,
    DunningRun,
    NoticeItem,
)
from billops.collections.selectors.dunning import (
    DunningPlan,
    candidate_customer_ids,
    get_policy,
    plan_dunning,
)
from billops.collections.services.accounts import profile_of
from billops.collections.services.dunning_notices import (
    FEE_PRODUCT,
    INTEREST_PRODUCT,
    PLACEHOLDERS,
    require_products,
    send_notice,
    unknown_placeholders,
)
from billops.core.currencies import validate_currency
from billops.core.errors import Conflict, CurrencyMismatch, Duplicate, InvalidAmount, InvalidInput, NotFound
from billops.core.money import money
from billops.customers.models import Customer
from billops.customers.selectors import get_customer
from billops.invoicing.services.lines import clean_document_date
from billops.ledger.accounts import REVENUE, control_account
from billops.ledger.errors import PeriodClosed
from billops.ledger.posting import period_for_posting

MOST_LEVELS = 9
MOST_DAYS = 3650  # ten years past due
PARKED_DAYS = 20_000  # above MOST_DAYS: where a policy's levels wait while they are renumbered


@dataclass(frozen=True, slots=True)
class LevelData:
    """One level as entered; amounts and rates as decimal text, like "5.00" and "8"."""

    days_after_due: Any
    subject: str
    body: str
    channel: str = DunningLevel.Channel.EMAIL
    fee_amount: Any = "0"  # fixed, in the policy's currency …
    fee_percent: Any = "0"  # … or a percentage of what the notice asks for, not both
    interest_rate: Any = "0"  # percent a year
    escalation: str = DunningLevel.Escalation.NONE


def _days(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(f"days after the due date are a whole number, not {value!r}", field=field)
    try:
        days = int(value)
    except ValueError:
        raise InvalidInput(
            f"days after the due date are a whole number, not {value!r}", field=field
        ) from None
    if not 1 <= days <= MOST_DAYS:
        raise InvalidInput(f"a level is 1 to {MOST_DAYS} days after the due date, not {days}", field=field)
    return days


def _choice(value: str, choices: Any, field: str) -> str:
    if value not in choices.values:
        raise InvalidInput(f"{field.rsplit('.', 1)[-1]} is one of {', '.join(choices.values)}", field=field)
    return value


def _template(value: Any, field: str, *, limit: int, one_line: bool = False) -> str:
    text = clean_text(value, field, limit=limit, required=True)
    if one_line and ("\n" in text or "\r" in text):
        raise InvalidInput("a subject is one line", field=field)
    unknown = unknown_placeholders(text)
    if unknown:
        raise InvalidInput(
            f"{{{unknown[0]}}} is not a placeholder; known: "
            + ", ".join(f"{{{name}}}" for name in PLACEHOLDERS),
            field=field,
        )
    return text


def _clean_level(data: LevelData, index: int, currency: str, problems: Problems) -> dict[str, Any]:
    prefix = f"levels.{index}"
    values = {
        "days_after_due": problems.check(_days, data.days_after_due, f"{prefix}.days_after_due"),
        "subject": problems.check(_template, data.subject, f"{prefix}.subject", limit=200, one_line=True),
        "body": problems.check(_template, data.body, f"{prefix}.body", limit=5000),
        "channel": problems.check(_choice, data.channel, DunningLevel.Channel, f"{prefix}.channel"),
        "escalation": problems.check(
            _choice, data.escalation, DunningLevel.Escalation, f"{prefix}.escalation"
        ),
        "fee_percent": problems.check(clean_rate, data.fee_percent or "0", f"{prefix}.fee_percent"),
        "interest_rate": problems.check(clean_rate, data.interest_rate or "0", f"{prefix}.interest_rate"),
    }
    fee = problems.check(money, data.fee_amount or "0", currency, field=f"{prefix}.fee_amount")
    values["fee_amount"] = fee.amount if fee is not None else None
    if fee is not None and fee.amount < 0:
        problems.add(InvalidAmount("a fee is zero or more", field=f"{prefix}.fee_amount"))
    if fee is not None and fee.amount and values["fee_percent"]:
        problems.add(
            InvalidInput(
                "a level charges a fixed fee or a percentage, not both", field=f"{prefix}.fee_percent"
            )
        )
    return values


def _clean_levels(levels: Sequence[LevelData], currency: str, problems: Problems) -> list[dict[str, Any]]:
    if not 1 <= len(levels) <= MOST_LEVELS:
        problems.add(InvalidInput(f"a policy has 1 to {MOST_LEVELS} levels", field="levels"))
        return []
    cleaned = [_clean_level(data, index, currency, problems) for index, data in enumerate(levels)]
    days = [values["days_after_due"] for values in cleaned]
    for index in range(1, len(days)):
        if days[index] is not None and days[index - 1] is not None and days[index] <= days[index - 1]:
            problems.add(
                InvalidInput(
                    f"level {index + 1} comes {days[index]} days after the due date, not after level "
                    f"{index}'s {days[index - 1]}: levels go in the order of their days",
                    field=f"levels.{index}.days_after_due",
                )
            )
    return cleaned


def policy_state(policy: DunningPolicy) -> dict[str, Any]:
    """A policy and its levels as audit data."""
    levels = [
        {
            name: getattr(level, name)
            for name in (
                "number",
                "days_after_due",
                "subject",
                "channel",
                "fee_amount",
                "fee_percent",
                "interest_rate",
                "escalation",
            )
        }
        for level in policy.levels.order_by("number")
    ]
    return json_safe({
        "code": policy.code, "name": policy.name, "currency": policy.currency,
        "is_default": policy.is_default, "minimum_amount": policy.minimum_amount, "levels": levels,
    })  # fmt: skip


def _in_use(policy: DunningPolicy) -> str:
    """Why the policy's currency or levels cannot change freely: what refers to it; "" when nothing does."""
    if CollectionProfile.objects.filter(dunning_policy=policy).exists():
        return "customers are assigned to it"
    if (
        DunningNotice.objects.filter(level__policy=policy).exists()
        or DunningRun.objects.filter(policy=policy).exists()
    ):
        return "runs have sent notices under it"
    return ""


@transaction.atomic(durable=True)
def save_dunning_policy(
    *,
    code: str,
    name: str,
    currency: str,
    levels: Sequence[LevelData],
    actor: User,
    is_default: bool = False,
    minimum_amount: Any = "0",
    expect_new: bool | None = None,
) -> DunningPolicy:
    """Create a dunning policy, or replace the settings and levels of the one with this code. Levels keep
    their identity by number, so invoices keep the levels they have had; a level that has sent notices
    is not removed. A new default of a currency takes over from the former one. `expect_new`: True refuses
    an existing code, False a missing one; None takes either."""
    require_permission(actor, "collections.manage_policies")
    problems = Problems()
    code = problems.check(clean_code, code, "code", limit=20)
    name = problems.check(clean_text, name, "name", limit=100, required=True)
    currency = problems.check(validate_currency, currency)
    minimum = problems.check(money, minimum_amount or "0", currency or "EUR", field="minimum_amount")
    if minimum is not None and minimum.amount < 0:
        problems.add(InvalidAmount("the minimum is zero or more", field="minimum_amount"))
    cleaned = _clean_levels(levels, currency or "EUR", problems)
    problems.raise_any()
    policy = DunningPolicy.objects.select_for_update().filter(code=code).first()
    before = policy_state(policy) if policy is not None else None
    if expect_new and policy is not None:
        raise Duplicate(f"there is a dunning policy {code} already", field="code")
    if expect_new is False and policy is None:
        raise NotFound(f"there is no dunning policy {code!r}", field="code")
    if policy is None:
        policy = DunningPolicy(code=code)
    elif policy.currency != currency and _in_use(policy):
        raise Conflict(
            f"{code} is in {policy.currency} and {_in_use(policy)}; make a new policy for {currency}",
            field="currency",
        )
    if is_default:  # the former default steps down first: one default per currency
        DunningPolicy.objects.filter(currency=currency, is_default=True).exclude(pk=policy.pk).update(
            is_default=False
        )
    policy.name, policy.currency, policy.is_default = name, currency, bool(is_default)
    policy.minimum_amount, policy.updated_by = minimum.amount, actor
    policy.save()
    existing = {level.number: level for level in policy.levels.select_for_update()}
    # the current levels' days are parked above any allowed value first, so levels can trade days
    policy.levels.update(days_after_due=F("number") + PARKED_DAYS)
    for number, values in enumerate(cleaned, start=1):
        level = existing.pop(number, None) or DunningLevel(policy=policy, number=number)
        for field, value in values.items():
            setattr(level, field, value)
        level.save()
    for level in existing.values():
        if (
            NoticeItem.objects.filter(level=level).exists()
            or DunningNotice.objects.filter(level=level).exists()
        ):
            raise Conflict(
                f"level {level.number} of {code} has sent notices and stays; give the policy at least "
                f"{level.number} levels",
                field="levels",
            )
        level.delete()
    record_event(
        actor=actor, action="dunning.policy_saved", target=policy, before=before, after=policy_state(policy)
    )
    return policy


@transaction.atomic(durable=True)
def delete_dunning_policy(*, code: str, actor: User) -> None:
    """Remove a policy that no customer, run or notice refers to."""
    require_permission(actor, "collections.manage_policies")
    policy = get_policy(code)
    why = _in_use(policy)
    if why:
        raise Conflict(f"{policy.code} cannot be removed: {why}", field="code")
    record_event(actor=actor, action="dunning.policy_deleted", target=policy, before=policy_state(policy))
    policy.levels.all().delete()
    policy.delete()


def ensure_dunning_products(*, actor: User, tax_code: str = "VAT-EXEMPT") -> list[str]:
    """Set up the catalog products dunning and payment plans bill fees and interest as (DUNNING-FEE and
    LATE-INTEREST, to revenue with `tax_code`), where missing; returns the codes made. Their tax code and
    account can be changed in the catalog afterwards."""
    require_permission(actor, "collections.manage_policies")
    made = []
    for code, name in ((FEE_PRODUCT, "Dunning fee"), (INTEREST_PRODUCT, "Late payment interest")):
        if Product.objects.filter(code=code).exists():
            continue
        create_product(
            code=code, name=name, unit="each", revenue_account=control_account(REVENUE).code,
            tax_code=tax_code, description=name, actor=actor,
        )  # fmt: skip
        made.append(code)
    return made


@transaction.atomic(durable=True)
def set_customer_dunning(
    *, customer_id: int, policy_code: str | None, excluded: bool, reason: str = "", actor: User
) -> CollectionProfile:
    """Give a customer its own dunning policy (None or "": the default of its currency) and exclude it
    from dunning, with the reason, or include it again."""
    require_permission(actor, "collections.work")
    customer = get_customer(customer_id, for_update=True)
    policy = get_policy(policy_code) if policy_code else None
    if policy is not None and policy.currency != customer.currency:
        raise CurrencyMismatch(
            f"{customer.account_number} is billed in {customer.currency}; {policy.code} is a "
            f"{policy.currency} policy",
            field="policy_code",
        )
    reason = clean_text(reason, "reason", limit=200, required=bool(excluded))
    profile = profile_of(customer)
    before = _dunning_state(profile)
    profile.dunning_policy = policy
    profile.dunning_excluded, profile.dunning_exclusion_reason = bool(excluded), reason if excluded else ""
    profile.save(update_fields=["dunning_policy", "dunning_excluded", "dunning_exclusion_reason"])
    after = _dunning_state(profile)
    if after != before:
        record_event(
            actor=actor,
            action="dunning.customer_settings_changed",
            target=customer,
            before=before,
            after=after,
        )
    return profile


def _dunning_state(profile: CollectionProfile) -> dict[str, Any]:
    return {
        "dunning_policy": profile.dunning_policy.code if profile.dunning_policy else None,
        "dunning_excluded": profile.dunning_excluded,
        "dunning_exclusion_reason": profile.dunning_exclusion_reason,
    }


def _run_day(run_on: date | None) -> date:
    day = clean_document_date(run_on, "run_on") or clock.today()
    if day > clock.today():
        raise InvalidInput(
            f"a dunning run counts the days past due up to today ({clock.today().isoformat()}) at the "
            f"latest, not {day.isoformat()}",
            field="run_on",
        )
    return day


def preview_dunning(*, run_on: date | None, actor: User, policy_code: str = "") -> DunningPlan:
    """What a run on the day would send, charge and escalate, and whom it leaves out; writes nothing."""
    require_permission(actor, "collections.run_dunning")
    day = _run_day(run_on)
    return plan_dunning(run_on=day, policy=get_policy(policy_code) if policy_code else None)


def _check_charges(plan: DunningPlan) -> None:
    """Refuse the whole run before anything is written when its fees or interest cannot be charged."""
    charging = [notice for notice in plan.notices if notice.charges]
    if not charging:
        return
    codes = [FEE_PRODUCT] if any(n.fee for n in charging) else []
    codes += [INTEREST_PRODUCT] if any(n.interest for n in charging) else []
    require_products(codes, field="run_on")
    try:
        period_for_posting(plan.run_on)
    except PeriodClosed as exc:
        notices = f"{len(charging)} notice{'s' if len(charging) > 1 else ''}"
        raise PeriodClosed(
            f"the dunning run of {plan.run_on.isoformat()} charges fees or interest on {notices}: "
            f"{exc.message}. Nothing was sent",
            field="run_on",
        ) from None


@transaction.atomic(durable=True)
def run_dunning(*, run_on: date | None, actor: User, policy_code: str = "") -> DunningRun:
    """Send the notices the preview shows: charge their fees and interest on debit notes, queue the e-mails,
    keep the letters, escalate; every notice, charge and escalation is audited."""
    require_permission(actor, "collections.run_dunning")
    day = _run_day(run_on)
    scope = get_policy(policy_code) if policy_code else None
    # every customer with something past due, in one order: two runs at once take turns, and the
    # second plans after the first has committed, so it finds the levels already had
    list(
        Customer.objects.select_for_update()
        .filter(pk__in=candidate_customer_ids(day))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    plan = plan_dunning(run_on=day, policy=scope)
    _check_charges(plan)
    run = DunningRun.objects.create(run_on=day, policy=scope, started_by=actor)
    notices = [send_notice(planned, run, actor) for planned in plan.notices]
    run.notice_count, run.item_count = len(notices), plan.item_count
    run.debit_note_count = sum(1 for notice in notices if notice.debit_note_id)
    run.escalation_count = sum(1 for notice in notices if notice.escalated != DunningLevel.Escalation.NONE)
    run.skipped_count = len(plan.skipped)
    run.save(
        update_fields=["notice_count", "item_count", "debit_note_count", "escalation_count", "skipped_count"]
    )
    record_event(
        actor=actor,
        action="dunning.run_completed",
        target=run,
        after={
            "run_on": day, "policy": scope.code if scope else None, "notices": run.notice_count,
            "items": run.item_count, "debit_notes": run.debit_note_count, "escalations": run.escalation_count,
            "fees": sum((n.fee for n in notices), Decimal(0)),
            "interest": sum((n.interest for n in notices), Decimal(0)),
            "skipped": {skipped.customer.account_number: skipped.reason for skipped in plan.skipped},
        },
    )  # fmt: skip
    return run
