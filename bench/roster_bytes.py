"""Bytes an hour a scanning phone costs to keep its roster current, at 100,000 registered people.

Not part of ``make test``. It makes a fresh database (SQLite in a temporary folder, or
``--database-url``), seeds an operation directly with bulk inserts: ``--people`` people in
households of four, on the trips of 400 buses (five trips each) laid out by a current convoy plan
in which 60 % of the trips drive through the checkpoint ``cp1`` and the rest round it (``bypass``).
Then it runs the service in this process (FastAPI's test client) and simulates a phone at ``cp1``
polling ``GET /api/operations/{id}/roster`` every ``--poll-minutes`` while the operation moves at
a steady rate (per simulated hour, through the real code paths):

* ``--moving`` people a hour board at ``start`` (a batch each poll), pass ``cp1`` 25 minutes later
  if their trip goes that way, and arrive at ``end`` 55 minutes after boarding (scans sent to the
  batch events API by a scanner device);
* ``--registering`` people a hour are registered (households of four, the registration service)
  and put on a trip (60 % through ``cp1``);
* ``--alarms`` people a hour are reported missing.

A share of the households (``--unassigned``, 5 % by default), seeded and registered alike, gather
at ``cp1`` itself and are on no manifest: the phone there holds them too (a person registered
where the phone scans is recognised there before any vehicle is theirs).

A warm-up hour fills the pipeline (people boarded, in transit and arriving), then one hour is
measured. Bytes per answer: the status line, the headers and the body as sent (gzip when larger
than 200 bytes), plus ``date`` and ``server`` headers a real server adds; the request line and
headers of each poll are counted apart. Prints the figures and writes them as JSON (``--out``).

    .venv/bin/python -m bench.roster_bytes                      # 100,000 people, SQLite
    .venv/bin/python -m bench.roster_bytes --people 20000       # smaller, quicker
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import insert

from corridor.server.access import service as access
from corridor.server.app import create_app
from corridor.server.auth import Passwords, Role
from corridor.server.columns import utc_now
from corridor.server.convoys.tables import ConvoyVersion
from corridor.server.db import Database, upgrade
from corridor.server.encryption import Sealer
from corridor.server.ids import new_id
from corridor.server.manifests.tables import ManifestEntry, Trip, Vehicle
from corridor.server.registration import service as registration
from corridor.server.registration.schemas import HouseholdIn, PersonIn
from corridor.server.registration.tables import Household, Person
from corridor.server.settings import Settings

PASSWORD = "correct horse battery"
ROUTE = [
    {"id": "start", "name": "Gate", "kind": "departure", "expected_minutes": 0},
    {"id": "cp1", "name": "Ramouseh", "kind": "checkpoint", "expected_minutes": 25},
    {"id": "end", "name": "Reception", "kind": "arrival", "expected_minutes": 55},
]
BUSES, TRIPS_EACH, VIA_CP1 = 400, 5, 0.6
# What a real server adds to each answer that the test client leaves out: "date: ..." and "server: uvicorn".
SERVER_HEADERS = len("date: Mon, 07 Dec 2026 07:00:00 GMT\r\n") + len("server: uvicorn\r\n")
FIRST = ["Rana", "Huda", "Omar", "Layla", "Ahmad", "Mariam", "محمد", "فاطمة", "يوسف", "مريم"]
FAMILY = ["Haddad", "Khatib", "Najjar", "الحلبي", "الشامي", "المصري"]


@dataclass
class Polls:
    """What the phone received: bytes of each answer (headers and body as sent) and each request."""

    answers: list[int] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    people: list[int] = field(default_factory=list)
    full: int = 0


def _answer_bytes(answer: httpx.Response) -> int:
    status = len(f"HTTP/1.1 {answer.status_code} {answer.reason_phrase}\r\n")
    headers = sum(len(k) + len(v) + 4 for k, v in answer.headers.items()) + 2 + SERVER_HEADERS
    return status + headers + answer.num_bytes_downloaded


def _request_bytes(request: httpx.Request) -> int:
    line = len(f"GET {request.url.raw_path.decode()} HTTP/1.1\r\n")
    return line + sum(len(k) + len(v) + 4 for k, v in request.headers.items()) + 2


def _trip_keys() -> list[tuple[str, int, bool]]:
    """(vehicle code, trip number, through cp1) of every planned trip."""
    rng = random.Random(7)
    return [
        (f"B{b:03d}", n, rng.random() < VIA_CP1)
        for b in range(1, BUSES + 1)
        for n in range(1, TRIPS_EACH + 1)
    ]


def seed(
    db: Database, sealer: Sealer, operation_id: str, people: int, unassigned: float = 0.0
) -> list[tuple[str, str, int, bool]]:
    """Vehicles, trips, a current convoy plan and ``people`` people on its trips, by bulk inserts
    (the households of an ``unassigned`` share gather at ``cp1`` on no manifest); returns (person
    id, vehicle, trip, through cp1) of those on a trip, in boarding order."""
    trips = _trip_keys()
    now = utc_now()
    body = {
        "trips": [
            {
                "vehicle": f"bus-{code[1:]}",
                "number": n,
                "gathering": f"g{n}",
                "reception": "end",
                "haul": {"nodes": [f"g{n}", "start", "cp1" if via else "bypass", "end"]},
            }
            for code, n, via in trips
        ]
    }
    rng = random.Random(2016)
    share = random.Random(5)
    households: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    order: list[tuple[str, str, int, bool]] = []
    per_trip = max(1, -(-round(people * (1 - unassigned)) // len(trips)))
    gathering = "g1"
    for i in range(people):
        if i % 4 == 0:
            household = new_id()
            gathering = "cp1" if share.random() < unassigned else "g1"
            households.append(
                {
                    "id": household,
                    "operation_id": operation_id,
                    "gathering_point": gathering,
                    "created_at": now,
                }
            )
        person = new_id()
        name = f"{rng.choice(FIRST)} {rng.choice(FAMILY)} {i}"
        rows.append(
            {
                "id": person,
                "operation_id": operation_id,
                "household_id": household,
                "name_sealed": sealer.seal(name),
                "age_band": "18-59",
                "sex": rng.choice(("female", "male")),
                "vulnerabilities": [],
                "gathering_point": gathering,
                "wristband": f"WB-{i:06d}",
                "registered_at": now,
            }
        )
        if gathering == "cp1":
            continue  # on no manifest
        code, number, via = trips[min(len(order) // per_trip, len(trips) - 1)]
        entries.append(
            {
                "person_id": person,
                "operation_id": operation_id,
                "vehicle_code": code,
                "trip": number,
                "place": "seat",
                "assigned_at": now,
            }
        )
        order.append((person, code, number, via))
    with db.writing() as session:
        session.execute(
            insert(Vehicle),
            [
                {
                    "operation_id": operation_id,
                    "code": f"B{b:03d}",
                    "kind": "bus",
                    "seats": 50,
                    "stretchers": 0,
                    "wave": 0,
                }
                for b in range(1, BUSES + 1)
            ],
        )
        session.execute(
            insert(Trip),
            [
                {
                    "operation_id": operation_id,
                    "vehicle_code": code,
                    "number": n,
                    "convoy_version": 1,
                    "load": [],
                }
                for code, n, _ in trips
            ],
        )
        session.add(
            ConvoyVersion(
                operation_id=operation_id,
                version=1,
                plan_hash="0" * 64,
                body=body,
                basis={},
                vehicles={f"bus-{b:03d}": f"B{b:03d}" for b in range(1, BUSES + 1)},
                offsets={},
                current=True,
                published_at=now,
                published_by="bench",
                method="bench",
                evacuated=people,
                evacuees=people,
                trips=len(trips),
            )
        )
        for start in range(0, people, 5000):
            session.execute(insert(Household), households[start // 4 : (start + 5000) // 4])
            session.execute(insert(Person), rows[start : start + 5000])
        for start in range(0, len(entries), 5000):
            session.execute(insert(ManifestEntry), entries[start : start + 5000])
    return order


def _register(
    db: Database, sealer: Sealer, operation_id: str, rng: random.Random, n: int, unassigned: float = 0.0
) -> None:
    """``n`` people registered in households of four and put on a trip (an ``unassigned`` share
    of the households gather at ``cp1`` on no manifest), through the ORM (so the roster changes
    are noted as in any registration)."""
    trips = _trip_keys()
    with db.writing() as session:
        for _ in range(max(1, n // 4)):
            alone = rng.random() < unassigned
            body = HouseholdIn(
                gathering_point="cp1" if alone else "g1",
                people=[
                    PersonIn(
                        name=f"{rng.choice(FIRST)} {rng.choice(FAMILY)} new", age_band="18-59", sex="female"
                    )
                    for _ in range(4)
                ],
            )
            done = registration.register_household(
                session, sealer=sealer, operation_id=operation_id, body=body
            )
            if alone:
                continue
            code, number, _ = rng.choice(trips)
            for person in done.people:
                session.add(
                    ManifestEntry(
                        person_id=person.id,
                        operation_id=operation_id,
                        vehicle_code=code,
                        trip=number,
                        place="seat",
                        assigned_at=utc_now(),
                    )
                )


class Scanner:
    """A scanner device sending events to the batch API."""

    def __init__(self, client: TestClient, operation_id: str, token: str) -> None:
        self.client, self.url, self.seq = client, f"/api/operations/{operation_id}/events/batch", 0
        self.headers = {"Authorization": f"Bearer {token}"}

    def send(self, events: list[tuple[str, str, str, str | None]]) -> None:
        batch = []
        for kind, person, point, vehicle in events:
            self.seq += 1
            payload = {"person_id": person, "point": point} | ({"vehicle_id": vehicle} if vehicle else {})
            batch.append(
                {
                    "event_id": str(uuid.uuid4()),
                    "device_id": "bench-scanner",
                    "seq": self.seq,
                    "device_time": datetime.now(UTC).isoformat(),
                    "type": kind,
                    "payload": payload,
                }
            )
        for start in range(0, len(batch), 100):
            answer = self.client.post(
                self.url, json={"events": batch[start : start + 100]}, headers=self.headers
            )
            assert answer.status_code == 200, answer.text


def run(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="corridor-roster-"))
    url = args.database_url or f"sqlite:///{folder / 'corridor.db'}"
    settings = Settings(
        database_url=url,
        data_dir=folder / "data",
        key_file=folder / "keys" / "corridor.key",
        argon2_time_cost=1,
        argon2_memory_kib=64,
    )
    upgrade(url)
    db = Database(url)
    with db.writing() as session:
        user = access.create_user(
            session,
            username="coordinator",
            password=PASSWORD,
            passwords=Passwords(time_cost=1, memory_kib=64),
        )
        access.grant(session, user_id=user.id, role=Role.COORDINATOR, operation_id=None)
    with TestClient(create_app(settings)) as client:
        coordinator = {"Authorization": "Bearer " + _token(client, "coordinator")}
        start = datetime.now(UTC) - timedelta(hours=1)
        made = client.post(
            "/api/operations",
            json={
                "name": "Roster bench",
                "scenario_name": "east-aleppo-2016",
                "route": ROUTE,
                "windows": [{"start": start.isoformat(), "end": (start + timedelta(days=3)).isoformat()}],
            },
            headers=coordinator,
        )
        assert made.status_code == 201, made.text
        operation_id = made.json()["id"]
        base = f"/api/operations/{operation_id}"
        assert (
            client.post(
                "/api/users", json={"username": "marshal", "password": PASSWORD}, headers=coordinator
            ).status_code
            == 201
        )
        granted = client.post(
            f"{base}/members", json={"username": "marshal", "role": "checkpoint_marshal"}, headers=coordinator
        )
        assert granted.status_code == 204, granted.text
        device = client.post(
            f"{base}/devices",
            json={"device_id": "bench-scanner", "label": "bench", "point": "start"},
            headers=coordinator,
        )
        assert device.status_code == 201, device.text
        scanner = Scanner(client, operation_id, device.json()["token"])
        phone = {"Authorization": "Bearer " + _token(client, "marshal"), "Accept-Encoding": "gzip"}

        sealer = Sealer.from_file(settings.key_file)
        began = time.monotonic()
        order = seed(db, sealer, operation_id, args.people, args.unassigned)
        seeded = time.monotonic() - began

        first = client.get(f"{base}/roster", params={"point": "cp1"}, headers=phone)
        assert first.status_code == 200, first.text
        cursor = first.json()["cursor"]
        full = {"bytes": _answer_bytes(first), "people": len(first.json()["people"])}

        ticks = round(60 / args.poll_minutes)
        board = max(1, round(args.moving / ticks))
        lag_cp1, lag_end = round(25 / args.poll_minutes), round(55 / args.poll_minutes)
        rng = random.Random(11)
        boarded: list[list[tuple[str, str, int, bool]]] = []
        measured = Polls()
        polled = time.monotonic()
        for tick in range(2 * ticks):  # a warm-up hour, then the measured hour
            batch = order[tick * board : (tick + 1) * board]
            boarded.append(batch)
            events: list[tuple[str, str, str, str | None]] = [
                ("boarded", p, "start", v) for p, v, _, _ in batch
            ]
            if tick >= lag_cp1:
                events += [("checkpoint", p, "cp1", None) for p, _, _, via in boarded[tick - lag_cp1] if via]
            if tick >= lag_end:
                events += [("arrived", p, "end", None) for p, _, _, _ in boarded[tick - lag_end]]
            alarms = args.alarms / ticks
            for _ in range(int(alarms) + (rng.random() < alarms % 1)):
                events.append(("missing", rng.choice(order[-len(order) // 2 :])[0], "cp1", None))
            scanner.send(events)
            _register(db, sealer, operation_id, rng, round(args.registering / ticks), args.unassigned)
            answer = client.get(f"{base}/roster", params={"point": "cp1", "since": cursor}, headers=phone)
            assert answer.status_code == 200, answer.text
            delta = answer.json()
            cursor = delta["cursor"]
            if tick >= ticks:
                measured.answers.append(_answer_bytes(answer))
                measured.requests.append(_request_bytes(answer.request))
                measured.people.append(len(delta["people"]) + len(delta["gone"]))
                measured.full += bool(delta["full"])
        simulated = time.monotonic() - polled
    db.dispose()
    return {
        "people": args.people,
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "seed_seconds": round(seeded, 1),
        "simulation_seconds": round(simulated, 1),
        "phone_point": "cp1",
        "full_roster": full,
        "polls_per_hour": len(measured.answers),
        "rates_per_hour": {"moving": args.moving, "registering": args.registering, "alarms": args.alarms},
        "unassigned_share": args.unassigned,
        "bytes_per_hour_down": sum(measured.answers),
        "bytes_per_hour_up": sum(measured.requests),
        "rows_per_hour": sum(measured.people),
        "largest_answer": max(measured.answers),
        "smallest_answer": min(measured.answers),
        "full_resyncs": measured.full,
    }


def _token(client: TestClient, username: str) -> str:
    answer = client.post("/api/auth/token", data={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--poll-minutes", type=float, default=2.0)
    parser.add_argument("--moving", type=int, default=600, help="people boarding an hour")
    parser.add_argument("--registering", type=int, default=300, help="people registered an hour")
    parser.add_argument("--alarms", type=int, default=10, help="people reported missing an hour")
    parser.add_argument(
        "--unassigned", type=float, default=0.05, help="share of households at cp1 on no manifest"
    )
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--out", type=Path, default=Path("out/bench/roster_bytes.json"))
    args = parser.parse_args()
    figures = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
