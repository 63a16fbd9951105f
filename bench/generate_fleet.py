"""Write the issue-19 fleet: N seeded plants, each a valid treaty folder with three 2,000-rule firewalls.

Why it exists: the fleet benchmark must judge plants of the size the issue names (3 firewalls of
2,000 rules, 500 conduits, 300 assets per site), each different, and the very same plants on
every run. Each plant starts from the bundled example (people, charter, patch policy, RACI,
identity: the documents a plant has whatever its size) and replaces what scales:

- the three boundary firewalls are ``plant_model`` policies (ASA, PAN-OS, FortiGate renderings)
  whose zones map onto the treaty's zones, each zone with an address block of its own;
- the register grows to ``--conduits`` entries: the example's, then permit rules of those
  firewalls registered as conduits (their zones, services and networks), so reconciliation has
  real work: most permits are registered, the rest is unregistered exposure;
- the assets grow to ``--assets``: hosts in the zones' blocks with roles that fit the level;
- the example's change records go (they edit its small iptables firewall, which is rebuilt here);
- one plant in ten keeps the example's confirmed PAN-OS advisory (CVE-2024-3400 on its DMZ
  gateway); the others run a fixed gateway, so a KEV entry for that CVE touches 10 % of them.

Plants are written once into ``bench/out/fleet-<params>/`` and reused: a plant folder holding
``.complete`` is not written again.

    .venv/bin/python bench/generate_fleet.py --sites 200 [--validate]
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from generate import write_config
from plant_model import Zone, address_networks, build_policy, service_ports
from ruamel.yaml import YAML

DEFAULT_OUT = Path(__file__).resolve().parent / "out"
EXAMPLE = Path(str(resources.files("plantgate") / "examples" / "petrochem"))

# Each treaty zone gets a /13 of its own for the generated hosts, beside its example network.
ZONE_BLOCKS = {"enterprise": "10.64.0.0/13", "idmz": "10.72.0.0/13", "ops": "10.80.0.0/13",
               "sup": "10.88.0.0/13", "ctl": "10.96.0.0/13", "sis": "10.104.0.0/13"}

# The example's three boundary firewalls, rebuilt large: (id, vendor, [(config zone, treaty zone, ASA level)]).
FIREWALLS: tuple[tuple[str, str, tuple[tuple[str, str, int], ...]], ...] = (
    ("fw-it-dmz", "asa", (("corp", "enterprise", 0), ("corp-dc", "enterprise", 20), ("idmz", "idmz", 50),
                          ("idmz-mgmt", "idmz", 60))),
    ("fw-dmz-ot", "panos", (("idmz", "idmz", 50), ("ops", "ops", 70), ("ops-hist", "ops", 75), ("sup", "sup", 80))),
    ("fw-ops-ot", "fortigate", (("ops", "ops", 70), ("sup", "sup", 80), ("ctl", "ctl", 90), ("sis", "sis", 95))),
)
OLD_FIREWALL_FILES = {"fw-it-dmz": "firewalls/fw-it-dmz.asa", "fw-dmz-ot": "firewalls/fw-dmz-ot.iptables",
                      "fw-ops-ot": "firewalls/fw-ops-ot.conf"}
ROLES = {"enterprise": ("workstation", "application_server", "server"), "idmz": ("server", "application_server"),
         "ops": ("server", "historian", "engineering_workstation", "workstation"),
         "sup": ("hmi", "dcs_server", "engineering_workstation"), "ctl": ("controller",), "sis": ("sis",)}
FORMAT = 1  # bump when the generator's output changes, so stale plants are not reused
VULNERABLE_EVERY = 10  # sites 0, 10, 20 ... keep the confirmed advisory on their DMZ gateway


def fleet_folder(out: Path, seed: int, rules: int, conduits: int, assets: int) -> Path:
    return out / f"fleet{FORMAT}-s{seed}-r{rules}-c{conduits}-a{assets}"


def site_zones(treaty_zones: tuple[tuple[str, str, int], ...]) -> tuple[list[Zone], dict[str, str]]:
    """The firewall's zones (each a quarter of its treaty zone's block) and the config-zone -> treaty-zone map."""
    zones, mapping, used = [], {}, dict[str, int]()
    for index, (name, treaty_zone, level) in enumerate(treaty_zones):
        quarter = used.get(treaty_zone, 0)
        used[treaty_zone] = quarter + 1
        network = list(ipaddress.IPv4Network(ZONE_BLOCKS[treaty_zone]).subnets(new_prefix=15))[quarter]
        zones.append(Zone(name, level, network, f"GigabitEthernet0/{index}"))
        mapping[name] = treaty_zone
    return zones, mapping


def conduit_of(policy: Any, rule: Any, mapping: dict[str, str], fw_id: str, number: int,
               rng: random.Random) -> dict[str, Any] | None:
    """A register entry for a permit rule between two treaty zones (None for other rules)."""
    a, b = mapping[rule.from_zone], mapping[rule.to_zone]
    if not rule.permit or a == b:
        return None
    services: list[dict[str, Any]] = []
    for protocol, low, high in service_ports(policy, rule.service):
        if protocol == "ip":
            services.append({"protocol": "ip"})
        elif protocol == "icmp" or (low, high) == (0, 65535):
            services.append({"protocol": protocol})
        else:
            services.append({"protocol": protocol, "ports": [low if low == high else f"{low}-{high}"]})
    entry: dict[str, Any] = {"id": f"C-G{number:04d}", "from_zone": a, "to_zone": b, "services": services}
    for field, ref in (("sources", rule.source), ("destinations", rule.destination)):
        if ref.kind != "any":
            entry[field] = [str(n) for n in address_networks(policy, ref)]
    year, month = rng.choice((2026, 2027, 2027, 2028)), rng.randint(1, 12)
    entry.update({"business_reason": f"Generated flow of {fw_id} rule-{rule.number}.", "owner": "m.okafor",
                  "ot_approver": rng.choice(("r.alvarez", "d.chen")), "change_record": f"CR-G{number:04d}",
                  "review_by": f"{year}-{month:02d}-28", "enforced_by": [fw_id]})
    return entry


def write_site(folder: Path, number: int, seed: int, rules: int, conduits: int, assets: int) -> Path:
    """One plant's treaty folder (written from scratch; ``.complete`` marks it done)."""
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(EXAMPLE, folder)
    for example_only in ("changes", "firewalls/candidates", "firewalls/history"):  # about the example's iptables box
        shutil.rmtree(folder / example_only)
    rng = random.Random(seed * 100_003 + number)
    yaml = YAML()
    yaml.width = 4096

    site_yaml = folder / "site.yaml"
    site_yaml.write_text(site_yaml.read_text(encoding="utf-8").replace(
        "name: Bayport Olefins", f"name: Fleet plant {number:03d}"), encoding="utf-8")

    zones_doc = yaml.load((folder / "zones.yaml").read_text(encoding="utf-8"))
    for zone in zones_doc["zones"]:
        zone["networks"].append(ZONE_BLOCKS[zone["id"]])
    with (folder / "zones.yaml").open("w", encoding="utf-8") as handle:
        yaml.dump(zones_doc, handle)

    firewalls_doc = yaml.load((folder / "firewalls.yaml").read_text(encoding="utf-8"))
    conduits_doc = yaml.load((folder / "conduits.yaml").read_text(encoding="utf-8"))
    register = conduits_doc["conduits"]
    candidates: list[dict[str, Any]] = []
    for fw_index, (fw_id, vendor, treaty_zones) in enumerate(FIREWALLS):
        zones, mapping = site_zones(treaty_zones)
        policy = build_policy(rules, seed=rng.randrange(1 << 30), zones=zones)
        (folder / OLD_FIREWALL_FILES[fw_id]).unlink()
        path = write_config(policy, vendor, folder / "firewalls", fw_id)
        entry = next(f for f in firewalls_doc["firewalls"] if f["id"] == fw_id)
        entry["vendor"], entry["config"], entry["zones"] = vendor, f"firewalls/{path.name}", mapping
        entry["description"] = f"Generated {vendor} boundary firewall, {rules} rules (seed {policy.seed})"
        for rule in policy.rules:
            made = conduit_of(policy, rule, mapping, fw_id, 10_000 * fw_index + rule.number, rng)
            if made is not None:
                candidates.append(made)
    with (folder / "firewalls.yaml").open("w", encoding="utf-8") as handle:
        yaml.dump(firewalls_doc, handle)
    vulns_text = (folder / "vulns.yaml").read_text(encoding="utf-8")
    existing = len(register) + vulns_text.count("\n  - id: C-")
    wanted = max(0, conduits - existing)
    if len(candidates) < wanted:
        raise SystemExit(f"only {len(candidates)} permit rules between zones for {wanted} conduits: more --rules")
    register.extend(rng.sample(candidates, wanted))
    with (folder / "conduits.yaml").open("w", encoding="utf-8") as handle:
        yaml.dump(conduits_doc, handle)

    assets_doc = yaml.load((folder / "assets.yaml").read_text(encoding="utf-8"))
    hosts = {zone: ipaddress.IPv4Network(block) for zone, block in ZONE_BLOCKS.items()}
    taken: set[str] = set()
    for index in range(max(0, assets - len(assets_doc["assets"]))):
        zone = rng.choice(sorted(hosts))
        address = str(hosts[zone][rng.randrange(1, hosts[zone].num_addresses - 1)])
        while address in taken:
            address = str(hosts[zone][rng.randrange(1, hosts[zone].num_addresses - 1)])
        taken.add(address)
        role = rng.choice(ROLES[zone])
        assets_doc["assets"].append({"id": f"{zone}-g{index:03d}", "name": f"Generated {role} {index}",
                                     "zone": zone, "role": role, "addresses": [address]})
    if number % VULNERABLE_EVERY:  # a fixed gateway: the advisory's affected version is not installed here
        gateway = next(a for a in assets_doc["assets"] if a["id"] == "dmz-ape1808")
        gateway["version"] = "11.0.4"
        start = vulns_text.index("  matches:\n")
        end = vulns_text.index("  exceptions:")
        vulns_text = vulns_text[:start] + "  matches: []\n" + vulns_text[end:]
    with (folder / "assets.yaml").open("w", encoding="utf-8") as handle:
        yaml.dump(assets_doc, handle)
    # The fleet's feeds decide what is exploited, not a copy each plant keeps.
    vulns_text = vulns_text.replace("kev: [advisories/kev.json]", "kev: []").replace(
        "vulnrichment: [advisories/vulnrichment]", "vulnrichment: []")
    (folder / "vulns.yaml").write_text(vulns_text, encoding="utf-8")
    (folder / ".complete").write_text("", encoding="utf-8")
    return folder


def generate_fleet(sites: int, out: Path = DEFAULT_OUT, seed: int = 19, rules: int = 2000, conduits: int = 500,
                   assets: int = 300) -> list[Path]:
    """The folders of plants 0 .. sites-1, writing only those not yet complete."""
    root = fleet_folder(out, seed, rules, conduits, assets)
    folders = []
    for number in range(sites):
        folder = root / f"plant-{number:03d}"
        if not (folder / ".complete").exists():
            write_site(folder, number, seed, rules, conduits, assets)
        folders.append(folder)
    return folders


def validate(folder: Path) -> None:
    """``plantgate validate`` exits 0 on the plant, or this stops with its output."""
    done = subprocess.run([sys.executable, "-m", "plantgate.cli", "validate", str(folder)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise SystemExit(f"{folder}: plantgate validate exit {done.returncode}\n{done.stdout}{done.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--rules", type=int, default=2000, help="rules per firewall (3 firewalls per plant)")
    parser.add_argument("--conduits", type=int, default=500)
    parser.add_argument("--assets", type=int, default=300)
    parser.add_argument("--validate", action="store_true", help="run plantgate validate on every plant")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    for folder in generate_fleet(args.sites, args.out, args.seed, args.rules, args.conduits, args.assets):
        if args.validate:
            validate(folder)
        print(folder)


if __name__ == "__main__":
    main()
