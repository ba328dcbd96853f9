"""MIG for the simulated nvidia-smi: profiles, placements, GPU and compute instances.

GPU instance ids follow the driver's fixed slot numbering (A100/H100 class): the 7g profile is
GI 0, a 4-slice placement at 0/4 is GI 1/2, a 2-slice one at s is GI 3+s/2, a 1-slice one GI 7+s.
"""

from __future__ import annotations

# Imported by the type checkers only: `typing` alone costs a tool ~11 ms on every call.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Json = dict[str, Any]

CI_PROFILE = {1: 0, 2: 1, 3: 2, 4: 3, 7: 4}
BORDER_LGIP = "+" + "-" * 77 + "+"
BORDER_LGI = "+" + "-" * 55 + "+"
BORDER_LCI = "+" + "-" * 68 + "+"


def gi_id(size: int, start: int) -> int:
    """The GPU instance id the driver gives a placement of `size` memory slices at `start`."""
    if size >= 8:
        return 0
    if size == 4:
        return 1 + start // 4
    if size == 2:
        return 3 + start // 2
    return 7 + start


def find_profile(profiles: list[Json], token: str) -> Json | None:
    """The MIG profile named by an id (`9`) or a name (`3g.40gb`, `MIG 3g.40gb`)."""
    token = token.strip()
    name = token[4:] if token.startswith("MIG ") else token
    for prof in profiles:
        if token.isdigit() and int(token) == prof["id"]:
            return prof
        if name == prof["name"]:
            return prof
    return None


def _used(gis: list[Json]) -> set[int]:
    return {s for gi in gis for s in range(gi["start"], gi["start"] + gi["size"])}


def _fits(prof: Json, gis: list[Json], start: int) -> bool:
    used = _used(gis)
    span = set(range(start, start + prof["mem_slices"]))
    if span & used:
        return False
    compute = sum(gi["compute"] for gi in gis) + prof["compute"]
    media = sum(1 for gi in gis if gi["name"].endswith("+me"))
    return compute <= 7 and not (prof["name"].endswith("+me") and media)


def free_count(prof: Json, gis: list[Json]) -> int:
    """How many more instances of `prof` fit next to the existing ones (the lgip Free column)."""
    trial = list(gis)
    count = 0
    for start in prof["placements"]:
        if _fits(prof, trial, start):
            trial.append(_new_gi(prof, start))
            count += 1
    return min(count, int(prof["instances"]))


def _new_gi(prof: Json, start: int) -> Json:
    return {
        "id": gi_id(prof["mem_slices"], start),
        "profile_id": prof["id"],
        "name": prof["name"],
        "start": start,
        "size": prof["mem_slices"],
        "compute": prof["compute"],
        "cis": [],
    }


def create_gi(prof: Json, gis: list[Json]) -> Json | None:
    """Place a new GPU instance (highest free start first, as the driver does), or None."""
    for start in sorted(prof["placements"], reverse=True):
        if _fits(prof, gis, start):
            gi = _new_gi(prof, start)
            gis.append(gi)
            gis.sort(key=lambda g: g["id"])
            return gi
    return None


def create_ci(gi: Json) -> Json:
    """Create the full-size compute instance of a GPU instance."""
    ci = {"id": len(gi["cis"]), "profile_id": CI_PROFILE.get(gi["compute"], 0)}
    gi["cis"].append(ci)
    return ci


def lgip(rows: list[tuple[int, Json, list[Json]]]) -> str:
    """`nvidia-smi mig -lgip`: the profile table for (gpu index, profile, its GIs) rows."""
    out = [
        BORDER_LGIP,
        "| GPU instance profiles:" + " " * 54 + "|",
        "| GPU   Name             ID    Instances   Memory     P2P    SM    DEC   ENC  |",
        "|                              Free/Total   GiB              CE    JPEG  OFA  |",
        "|" + "=" * 77 + "|",
    ]
    for gpu, prof, gis in rows:
        name = f"MIG {prof['name']}"
        mem = f"{prof['memory_gib']:.2f}"
        out.append(
            f"|{gpu:>4}  {name:<16}{prof['id']:>4}{free_count(prof, gis):>6}/{prof['instances']:<9}"
            f"{mem:<11}{'No':<7}{prof['sm']:<7}{prof['dec']:<6}{prof['enc']:<4}|"
        )
        out.append("|" + " " * 61 + f"{prof['ce']:<6}{prof['jpeg']:<6}{prof['ofa']:<4}|")
        out.append(BORDER_LGIP)
    return "\n".join(out) + "\n"


def lgipp(rows: list[tuple[int, Json]]) -> str:
    """`nvidia-smi mig -lgipp`: the possible placements of each profile."""
    out = []
    for gpu, prof in rows:
        starts = ",".join(str(s) for s in prof["placements"])
        label = "Placements:" if len(prof["placements"]) > 1 else "Placement :"
        out.append(
            f"GPU {gpu:>2} Profile ID {prof['id']:>2} {label} {{{starts}}}:{prof['mem_slices']}"
        )
    return "\n".join(out) + "\n"


def lgi(rows: list[tuple[int, Json]]) -> str:
    """`nvidia-smi mig -lgi`: the GPU instances of each MIG-enabled GPU."""
    out = [
        BORDER_LGI,
        "| GPU instances:" + " " * 40 + "|",
        "| GPU   Name             Profile  Instance   Placement  |",
        "|                          ID       ID       Start:Size |",
        "|" + "=" * 55 + "|",
    ]
    for gpu, gi in rows:
        name = f"MIG {gi['name']}"
        out.append(
            f"|{gpu:>4}  {name:<16}{gi['profile_id']:>6}{gi['id']:>9}"
            f"{gi['start']:>11}:{gi['size']:<6}|"
        )
        out.append(BORDER_LGI)
    return "\n".join(out) + "\n"


def lci(rows: list[tuple[int, Json, Json]]) -> str:
    """`nvidia-smi mig -lci`: the compute instances inside each GPU instance."""
    out = [
        BORDER_LCI,
        "| Compute instances:" + " " * 49 + "|",
        "| GPU     GPU       Name             Profile   Instance   Placement  |",
        "|       Instance                       ID        ID       Start:Size |",
        "|         ID                                                         |",
        "|" + "=" * 68 + "|",
    ]
    for gpu, gi, ci in rows:
        name = f"MIG {gi['name']}"
        out.append(
            f"|{gpu:>4}{gi['id']:>7}       {name:<16}{ci['profile_id']:>6}{ci['id']:>10}"
            f"{0:>11}:{gi['compute']:<6}|"
        )
        out.append(BORDER_LCI)
    return "\n".join(out) + "\n"
