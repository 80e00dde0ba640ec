"""Invented MSP-client names: dental practices, law firms, logistics companies, clinics, marinas and the like.

Every name is built from the word lists below (places and surnames common enough to name nobody in
particular), so no real company is named on purpose. Some surnames carry a curly apostrophe (O’Malley) and
some a straight one, because QuickBooks stores whatever the bookkeeper typed.
"""
from __future__ import annotations

import random
from collections.abc import Callable

PLACES = (
    "Harborview", "Cedar Falls", "Maple Ridge", "Willow Creek", "Stonebridge", "Pinecrest", "Lakeside", "Riverbend",
    "Brookhaven", "Fairmont", "Oak Hollow", "Granite Bay", "Bayshore", "Northgate", "Westfield", "Eastlake",
    "Southport", "Clearwater", "Silver Lake", "Hillcrest", "Meadowbrook", "Foxborough", "Sandpoint", "Elm Grove",
    "Copper Canyon", "Ashford", "Bridgewater", "Kingsley", "Prairie View", "Red Rock", "Seacliff", "Timberline",
    "Crescent Bay", "Highland Park", "Mill Valley", "Stony Point", "Driftwood", "Juniper Hills", "Lighthouse Point",
    "Bluewater", "Cold Spring", "Deer Park", "Evergreen", "Falcon Heights", "Glen Echo", "Hawthorne", "Ivy Bridge",
)
SURNAMES = (
    "Abernathy", "Baxter", "Calloway", "Delgado", "Ellison", "Fairbanks", "Galloway", "Hartley", "Iverson",
    "Jennings", "Kowalski", "Lindqvist", "Mercer", "Nakamura", "Okafor", "Pemberton", "Quintero", "Rasmussen",
    "Sorensen", "Thibodeaux", "Underwood", "Vasquez", "Whitaker", "Yamada", "Zielinski", "Brennan", "Castellano",
    "Dunmore", "Esposito", "Fitzgerald", "Gallagher", "Holloway", "Kincaid", "Lombardi", "Moreau", "Novak",
    "Ostrowski", "Prescott", "Redding", "Sheridan", "Trask", "Vandermeer", "Wexley", "Ashby", "Beaumont", "Cordova",
    "O\u2019Malley", "O\u2019Brien", "O\u2019Connell", "D\u2019Angelo", "O\u2019Neill", "O\u2019Hara",
    "O'Rourke", "D'Souza", "McAllister", "MacLeod",
)
FIRST_NAMES = ("Anne", "Ben", "Carla", "David", "Elena", "Frank", "Grace", "Hector", "Irene", "James", "Kara",
               "Luis", "Maya", "Nate", "Olivia", "Paul", "Rosa", "Sam", "Tara", "Victor")


def _pick(rng: random.Random, words: tuple[str, ...]) -> str:
    return words[rng.randrange(len(words))]


def _possessive(name: str) -> str:
    """O’Malley -> O’Malley’s (the apostrophe kind the name already uses; curly by default)."""
    return f"{name}'s" if "'" in name else f"{name}\u2019s"


# Each maker: rng -> a name of one kind of MSP client. Weights say how common the kind is.
def _dental(r: random.Random) -> str:
    return r.choice([f"{_pick(r, PLACES)} Dental {r.choice(['Group', 'Care', 'Associates', 'Studio'])}",
                     f"{_pick(r, SURNAMES)} Family Dentistry", f"Smiles of {_pick(r, PLACES)}",
                     f"{_pick(r, PLACES)} Orthodontics"])


def _law(r: random.Random) -> str:
    a, b, c = _pick(r, SURNAMES), _pick(r, SURNAMES), _pick(r, SURNAMES)
    return r.choice([f"{a} & {b} LLP", f"{a}, {b} & {c}", f"{a} Law Group", f"Law Office of {_pick(r, FIRST_NAMES)} {a}",
                     f"{a} {b} Attorneys at Law"])


def _logistics(r: random.Random) -> str:
    return r.choice([f"{_pick(r, PLACES)} Freight {r.choice(['Lines', 'Logistics', 'Express'])}",
                     f"{_pick(r, SURNAMES)} Trucking", f"{_pick(r, PLACES)} Cold Storage",
                     f"{_pick(r, SURNAMES)} Distribution Co", f"{_pick(r, PLACES)} Courier Services"])


def _medical(r: random.Random) -> str:
    return r.choice([f"{_pick(r, PLACES)} Pediatrics", f"{_pick(r, PLACES)} Family Medicine",
                     f"{_pick(r, SURNAMES)} Orthopedics", f"{_pick(r, PLACES)} Physical Therapy",
                     f"{_pick(r, PLACES)} Animal Hospital", f"{_pick(r, PLACES)} Eye Care"])


def _office(r: random.Random) -> str:
    s = _pick(r, SURNAMES)
    return r.choice([f"{s} & Co CPAs", f"{s} {_pick(r, SURNAMES)} Accounting", f"{_pick(r, PLACES)} Realty",
                     f"{_pick(r, PLACES)} Property Management", f"{s} Insurance Agency",
                     f"{s} Architects", f"{_pick(r, PLACES)} Title & Escrow"])


def _trades(r: random.Random) -> str:
    s = _pick(r, SURNAMES)
    return r.choice([f"{s} Builders", f"{_pick(r, PLACES)} Roofing & Siding", f"{s} Electric",
                     f"{s} Precision Machining", f"{_pick(r, PLACES)} Plastics", f"{s} HVAC",
                     f"{_pick(r, PLACES)} Landscape Supply"])


def _community(r: random.Random) -> str:
    p = _pick(r, PLACES)
    return r.choice([f"{p} Food Bank", f"Friends of {p} Library", f"{p} Montessori School",
                     f"{p} Community Church", f"{p} Youth Soccer League"])


def _marine(r: random.Random) -> str:
    s = _pick(r, SURNAMES)
    return r.choice([f"{_possessive(s)} Marina", f"{_pick(r, PLACES)} Boat Works", f"{_possessive(s)} Bait & Tackle",
                     f"{_pick(r, PLACES)} Yacht Club", f"{_possessive(s)} Pub & Grill"])


MAKERS: tuple[tuple[Callable[[random.Random], str], int], ...] = (
    (_dental, 16), (_law, 16), (_logistics, 12), (_medical, 14), (_office, 18), (_trades, 12), (_community, 5),
    (_marine, 7))
MULTI_SITE = (_dental, _law, _logistics, _medical, _office)  # kinds that grow branch offices (sub-customers)
SITES = ("Downtown Office", "Eastside Clinic", "North Campus", "West End", "Airport Depot", "Warehouse 2",
         "Main Street", "Harbor Office", "Annex", "Managed Services", "Projects", "VoIP & Phones")
STREETS = ("Ocean View Road", "Harbor Blvd", "Mill Street", "Ridge Avenue", "Lakeshore Drive", "Commerce Way")


def client_name(rng: random.Random, taken: dict[str, None]) -> tuple[str, bool]:
    """A new unique top-level client name, and whether its kind may have branch offices."""
    makers = [m for m, _ in MAKERS]
    weights = [w for _, w in MAKERS]
    while True:
        maker = rng.choices(makers, weights)[0]
        name = maker(rng)
        if name.casefold() not in taken:
            taken[name.casefold()] = None
            return name, maker in MULTI_SITE


def site_name(rng: random.Random, parent: str, taken: dict[str, None]) -> str:
    """A sub-customer's DisplayName, unique in the company as QuickBooks requires (unlike its FullyQualifiedName).

    Mostly "Parent – Site"; some are a bare street address, as in Intuit's own sample company."""
    while True:
        if rng.random() < 0.25:
            name = f"{rng.randrange(100, 9900):04d} {_pick(rng, STREETS)}"
        else:
            name = f"{parent} \u2013 {_pick(rng, SITES)}"
        if name.casefold() not in taken:
            taken[name.casefold()] = None
            return name
