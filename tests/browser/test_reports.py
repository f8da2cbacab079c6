"""/reports in Chromium: every chart is drawn by Chart.js from its JSON, filters live in the URL
and redraw the charts, tables open in place, and charts stay readable with 50 teams over five
years (a fake chart of 50 series x 260 weeks)."""
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tickets import reports

pytestmark = pytest.mark.browser

CHARTJS = Path(__file__).resolve().parents[2] / "static" / "vendor" / "chartjs" / "chart.umd.js"


@pytest.fixture(autouse=True)
def _chartjs_installed():
    if not CHARTJS.exists():
        pytest.fail("static/vendor/chartjs/chart.umd.js is missing: run `python3 app.py test` "
                    "(it installs Chart.js with npm ci) instead of pytest alone")


def drawn_charts(page):
    """For every chart canvas: its key, size, whether Chart.js holds an instance, its type."""
    return page.eval_on_selector_all("canvas[data-chart-url]", """canvases => canvases.map(c => {
        const chart = Chart.getChart(c);
        return {key: c.id.replace('chart-', ''), width: c.clientWidth, height: c.clientHeight,
                drawn: c.dataset.chartDrawn, instance: !!chart, type: chart && chart.config.type,
                url: c.dataset.chartUrl};
    })""")


def wait_until_drawn(page):
    page.wait_for_function("""() => {
        const canvases = [...document.querySelectorAll('canvas[data-chart-url]')];
        return canvases.length > 0 && canvases.every(c => c.dataset.chartDrawn === 'true');
    }""")


def test_a_lead_sees_every_chart_drawn_and_filters_redraw_them(make, new_page):
    marketing, finance = make.team("Marketing"), make.team("Finance")
    requester = make.user("requester", teams=[marketing, finance])
    analyst = make.user("analyst", teams=[marketing, finance], email="ana@example.com")
    make.user("lead", email="leo@example.com")
    for n in range(6):
        request_id = make.request(requester, marketing if n % 2 else finance,
                                  title=f"Request {n}", kind="project" if n < 3 else "ad_hoc")
        make.act(request_id, "accept", analyst, size="S")
        if n < 2:
            make.act(request_id, "claim", analyst)

    page = new_page()
    log_in(page, "leo@example.com", PASSWORD)
    page.get_by_role("link", name="Reports", exact=True).click()
    page.wait_for_url("**/reports")
    wait_until_drawn(page)
    charts = drawn_charts(page)
    assert [chart["key"] for chart in charts] == list(reports.CHARTS)
    for chart in charts:
        assert chart["instance"] and chart["width"] > 200 and chart["height"] > 150, chart
    titles = page.locator("[data-chart-title]").all_inner_texts()
    assert "Cumulative flow" in titles and "" not in titles

    page.get_by_label("Kind", exact=True).select_option("project")
    page.get_by_label("Team", exact=True).select_option(str(marketing))
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**/reports?*kind=project*")
    assert f"team={marketing}" in page.url
    wait_until_drawn(page)
    for chart in drawn_charts(page):
        assert chart["instance"] and "kind=project" in chart["url"], chart
    assert page.get_by_label("Kind", exact=True).input_value() == "project"

    page.get_by_role("link", name="1 year").click()
    page.wait_for_url("**/reports?*start=*")
    assert "kind=project" in page.url
    wait_until_drawn(page)
    start = date.fromisoformat(page.get_by_label("From", exact=True).input_value())
    end = date.fromisoformat(page.get_by_label("To", exact=True).input_value())
    assert end - start == timedelta(weeks=52, days=-1)

    card = page.locator("[data-chart-card='throughput']")
    card.get_by_role("link", name="Table").click()
    table = card.locator("table")
    table.wait_for()
    assert table.locator("thead th").first.inner_text() == "Week of"
    assert card.get_by_role("link", name="Table").get_attribute("aria-expanded") == "true"
    card.get_by_role("link", name="Table").click()
    assert not table.is_visible()


def test_an_analyst_sees_their_teams_charts(make, new_page):
    marketing = make.team("Marketing")
    make.team("Finance")
    make.user("analyst", teams=[marketing], email="ana@example.com")
    page = new_page()
    log_in(page, "ana@example.com", PASSWORD)
    page.goto("/reports")
    wait_until_drawn(page)
    options = page.get_by_label("Team", exact=True).locator("option").all_inner_texts()
    assert options == ["All my teams", "Marketing"]
    assert all(chart["instance"] for chart in drawn_charts(page))


@reports.chart("demand", "Demand by team", "Requests submitted per week.")
def _fifty_teams_five_years(spec, filters, now):
    weeks = [(date(2021, 11, 29) + timedelta(weeks=n)).isoformat() for n in range(260)]
    series = [reports.Series(f"Team {t:02}", [(t * 7 + n) % 13 for n in range(260)])
              for t in range(50)]
    return reports.Chart(
        key="demand", title="Demand by team", how_to_read="Requests submitted per week.",
        type="stacked_bar", labels=weeks, series=series, columns=["Week of", "Team", "Requests"],
        rows=[[weeks[0], "Team 00", 0]], x_label="Week of", y_label="Requests")


@reports.chart("ageing", "Ageing work in progress", "Dots are open requests.")
def _ageing(spec, filters, now):
    statuses = {"on_track": "On track", "at_risk": "At risk", "breached": "Breached"}
    return reports.Chart(
        key="ageing", title="Ageing work in progress", how_to_read="Dots are open requests.",
        type="scatter", labels=["Accepted", "In progress", "Blocked"],
        series=[reports.Series(label, [{"x": i + 0.1 * k, "y": 3 + 4 * i + k, "id": k}
                                       for k in range(3)], {"status": status})
                for i, (status, label) in enumerate(statuses.items())],
        columns=["Request", "Age (days)"], rows=[], x_label="State", y_label="Age (days)",
        notes={"p50": 4.0, "p85": 9.5, "p95": 14.0, "shown": 9, "total": 9, "capped": False})


@reports.chart("kinds", "Ad-hoc and planned work", "Delivered work by kind.")
def _fifty_teams_by_kind(spec, filters, now):
    teams = [f"Team {t:02}" for t in range(50)]
    return reports.Chart(
        key="kinds", title="Ad-hoc and planned work", how_to_read="Delivered work by kind.",
        type="stacked_bar", labels=teams,
        series=[reports.Series(kind, [(t + k) % 4 for t in range(50)])
                for k, kind in enumerate(["Ad-hoc", "Project", "Data issue"])],
        columns=["Team", "Kind", "Delivered"], rows=[], x_label="Team", y_label="Delivered")


def test_fifty_teams_over_five_years_stay_readable(make, new_page, monkeypatch):
    monkeypatch.setattr(reports, "CHARTS", {"demand": _fifty_teams_five_years,
                                            "ageing": _ageing, "kinds": _fifty_teams_by_kind})
    make.user("lead", email="leo@example.com")
    page = new_page()
    log_in(page, "leo@example.com", PASSWORD)
    page.goto("/reports")
    wait_until_drawn(page)
    shape = page.evaluate("""() => {
        const chart = Chart.getChart(document.getElementById('chart-demand'));
        return {type: chart.config.type, legend: chart.options.plugins.legend.display,
                ticks: chart.scales.x.ticks.length, rotation: chart.scales.x.labelRotation,
                points: chart.data.datasets[0].pointRadius, stacked: chart.options.scales.y.stacked,
                fill: chart.data.datasets[1].fill};
    }""")
    assert shape["type"] == "line", "260 weeks of bars would be slivers: drawn as stacked areas"
    assert shape["fill"] == "-1" and shape["stacked"] is True
    assert shape["legend"] is False and shape["points"] == 0
    assert shape["ticks"] <= 30 and shape["rotation"] == 0

    card = page.locator("[data-chart-card='demand']")
    legend = card.locator("[data-chart-legend]")
    assert legend.is_visible()
    assert legend.locator(".chart-legend-item").count() == 50
    box = legend.bounding_box()
    assert box["height"] < 200, "the legend scrolls instead of pushing the page down"
    legend.get_by_role("button", name="Team 07").click()
    hidden = page.evaluate("() => !Chart.getChart(document.getElementById('chart-demand'))"
                           ".isDatasetVisible(7)")
    assert hidden
    assert legend.get_by_role("button", name="Team 07").get_attribute("aria-pressed") == "false"

    scatter = page.evaluate("""() => {
        const chart = Chart.getChart(document.getElementById('chart-ageing'));
        return {colours: chart.data.datasets.map(d => d.backgroundColor),
                lines: chart.options.plugins.percentileLines.lines.map(l => l.value),
                xTicks: chart.scales.x.ticks.map(t => t.label)};
    }""")
    assert scatter["colours"] == ["rgba(25, 135, 84, 0.75)", "rgba(211, 158, 0, 0.75)",
                                  "rgba(220, 53, 69, 0.75)"]
    assert scatter["lines"] == [4.0, 9.5, 14.0]
    assert scatter["xTicks"] == ["Accepted", "In progress", "Blocked"]
    notes = page.locator("[data-chart-card='ageing'] [data-chart-notes]").inner_text()
    assert "85th percentile: 9.5" in notes

    teams = page.evaluate("""() => {
        const chart = Chart.getChart(document.getElementById('chart-kinds'));
        return {axis: chart.options.indexAxis, ticks: chart.scales.y.ticks.length,
                height: chart.canvas.clientHeight};
    }""")
    assert teams == {"axis": "y", "ticks": 50, "height": teams["height"]}, "every team named"
    assert teams["height"] >= 50 * 20, "a bar per team, each tall enough to read its name"


@reports.chart("flow", "Cumulative flow", "Open requests per state.")
def _states_by_day(spec, filters, now):
    days = [(date(2026, 3, 2) + timedelta(days=n)).isoformat() for n in range(10)]
    states = {"delivered": "Delivered", "in_progress": "In progress", "submitted": "Submitted"}
    return spec.chart(
        type="stacked_area", labels=days,
        series=[reports.Series(label, [n % 4 + k for n in range(10)], {"state": state})
                for k, (state, label) in enumerate(states.items())],
        columns=["Day"], rows=[], x_label="Day", y_label="Requests")


@reports.chart("bars", "Demand by team", "Requests submitted per week.")
def _fifty_teams_four_weeks(spec, filters, now):
    weeks = [(date(2026, 3, 2) + timedelta(weeks=n)).isoformat() for n in range(4)]
    return spec.chart(
        type="stacked_bar", labels=weeks,
        series=[reports.Series(f"Team {t:02}", [(t + n) % 3 for n in range(4)])
                for t in range(50)],
        columns=["Week of"], rows=[], x_label="Week of", y_label="Requests")


def test_legends_show_each_series_in_the_colours_its_chart_draws(make, new_page, monkeypatch):
    monkeypatch.setattr(reports, "CHARTS", {"flow": _states_by_day,
                                            "bars": _fifty_teams_four_weeks,
                                            "demand": _fifty_teams_five_years})
    make.user("lead", email="leo@example.com")
    page = new_page()
    log_in(page, "leo@example.com", PASSWORD)
    page.goto("/reports")
    wait_until_drawn(page)
    colours = page.evaluate("""() => {
        // A CSS colour as the browser computes it, so '#0a58ca' equals 'rgba(10, 88, 202, 1)'.
        const computed = (colour) => {
            const probe = document.createElement('span');
            probe.style.color = colour;
            document.body.appendChild(probe);
            const value = getComputedStyle(probe).color;
            probe.remove();
            return value;
        };
        const chartOf = (key) => Chart.getChart(document.getElementById('chart-' + key));
        const drawn = (key) => chartOf(key).data.datasets.map(d => ({
            fill: computed(d.backgroundColor), border: computed(d.borderColor),
            width: d.borderWidth || 0}));
        // Our HTML legend (charts with many series): each swatch as the page shows it.
        const swatches = (key) => [...document.querySelectorAll(
                `[data-chart-card='${key}'] .chart-swatch`)].map(s => {
            const style = getComputedStyle(s);
            return {fill: style.backgroundColor, border: style.borderTopColor,
                    width: parseFloat(style.borderTopWidth)};
        });
        // Chart.js's own legend (few series): the boxes it draws.
        const boxes = (key) => chartOf(key).legend.legendItems.map(item => ({
            fill: computed(item.fillStyle), border: computed(item.strokeStyle),
            width: item.lineWidth || 0}));
        const badge = (state) => {
            const probe = document.createElement('span');
            probe.className = 'badge state state-' + state;
            document.body.appendChild(probe);
            const value = getComputedStyle(probe).backgroundColor;
            probe.remove();
            return value;
        };
        return {
            flow: {drawn: drawn('flow'), legend: boxes('flow'),
                   badges: ['delivered', 'in_progress', 'submitted'].map(badge)},
            bars: {drawn: drawn('bars'), legend: swatches('bars')},
            demand: {drawn: drawn('demand'), legend: swatches('demand')},
        };
    }""")
    for key in ("flow", "bars", "demand"):
        drawn, legend = colours[key]["drawn"], colours[key]["legend"]
        assert len(legend) == len(drawn) == (3 if key == "flow" else 50), key
        for shown, dataset in zip(legend, drawn):
            assert shown["fill"] == dataset["fill"], (key, shown, dataset)
            if dataset["width"]:
                assert shown["border"] == dataset["border"], (key, shown, dataset)
    # Bars are translucent: the legend shows them so, not in their opaque border colour.
    assert colours["bars"]["legend"][0]["fill"] == "rgba(78, 121, 167, 0.85)"
    # A state's series has its badge's colour (the states' legend everywhere else).
    assert [d["border"] for d in colours["flow"]["drawn"]] == colours["flow"]["badges"]
