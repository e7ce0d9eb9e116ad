using System.Globalization;
using MyIpcBench.Model;
using ScottPlot;
using SkiaSharp;

namespace MyIpcBench.Reporting;

/// <summary>
/// The chart (--chart FILE.png): a header with the machine facts, one throughput panel per message size (hub and
/// raw bars per mechanism) and a panel of one-way latency p50/p99 through the hub. Panels are separate ScottPlot
/// plots drawn onto one Skia canvas, so each size gets its own scale.
/// </summary>
internal static class ChartReport
{
    public const int Width = 1600;
    public const int Height = 1000;

    private const int HeaderHeight = 96;
    private const int MaxPanelsPerRow = 3;

    /// <summary>A value axis switches to log10 when its bars differ by more than this (else small bars vanish).</summary>
    private const double LogScaleRatio = 25;

    /// <summary>Below this many pixels per group the tick labels go short and slanted.</summary>
    private const float WideGroupPixels = 135;

    /// <summary>Below this bar width (pixels) value labels would collide; the axis has to do.</summary>
    private const float MinLabelledBarPixels = 20;

    private static readonly string[] PreferredFonts = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica"];

    private static readonly Color RawColor = Color.FromHex("#ff7f0e");

    /// <summary>Hub series (one per fan-out) and latency series (one per size): Category10 without the raw orange.</summary>
    private static readonly Color[] SeriesColors =
    [
        Color.FromHex("#1f77b4"), Color.FromHex("#2ca02c"), Color.FromHex("#9467bd"), Color.FromHex("#8c564b"),
        Color.FromHex("#17becf"), Color.FromHex("#e377c2"), Color.FromHex("#bcbd22"), Color.FromHex("#7f7f7f"),
    ];

    /// <summary>A sans-serif family if one is installed (ScottPlot's detected default may be a serif one).</summary>
    private static readonly Lazy<string> ChosenFont = new(() =>
        PreferredFonts.FirstOrDefault(name =>
            string.Equals(Fonts.GetTypeface(name, bold: false, italic: false).FamilyName, name, StringComparison.OrdinalIgnoreCase))
        ?? Fonts.Default);

    /// <summary>Renders the chart and writes it to <paramref name="pngPath"/>.</summary>
    /// <exception cref="IOException">The file cannot be written (the message names the path).</exception>
    public static void Save(string pngPath, BenchRunInfo run, IReadOnlyList<CaseResult> results)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pngPath);
        byte[] png = Render(run, results, Width, Height);
        try
        {
            File.WriteAllBytes(pngPath, png);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new IOException($"Cannot write the chart to '{pngPath}': {e.Message}", e);
        }
    }

    /// <summary>The chart as PNG bytes.</summary>
    internal static byte[] Render(BenchRunInfo run, IReadOnlyList<CaseResult> results, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(results);
        // Failed rows may carry partial figures; leave them out of the picture (the table shows the error).
        List<CaseResult> ok = [.. ReportFormat.Ordered(results).Where(r => r.Error is null)];
        int[] sizes = [.. ok.Where(r => ReportFormat.Has(r.MbPerS)).Select(r => r.MessageSize).Distinct().Order()];

        using SKSurface surface = NewSurface(width, height);
        SKCanvas canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        DrawHeader(canvas, run, results, width);

        int throughputPanels = Math.Max(sizes.Length, 1);
        int columns = Math.Min(throughputPanels, MaxPanelsPerRow);
        int throughputRows = (throughputPanels + columns - 1) / columns;
        float rowHeight = (height - HeaderHeight) / (float)(throughputRows + 1);
        for (int i = 0; i < throughputPanels; i++)
        {
            int row = i / columns;
            // The last row's panels share its width among themselves.
            int inRow = Math.Min(columns, throughputPanels - (row * columns));
            float panelWidth = width / (float)inRow;
            float left = (i % columns) * panelWidth;
            float top = HeaderHeight + (row * rowHeight);
            using Plot plot = sizes.Length == 0
                ? EmptyPanel("Throughput: no figures")
                : ThroughputPanel(ok, sizes[i], panelWidth);
            DrawPanel(canvas, plot, left, top, panelWidth, rowHeight);
        }
        float latencyTop = HeaderHeight + (throughputRows * rowHeight);
        using (Plot latency = LatencyPanel(ok, width))
        {
            DrawPanel(canvas, latency, 0, latencyTop, width, height - latencyTop);
        }

        using SKImage image = surface.Snapshot();
        using SKData data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static string FontName => ChosenFont.Value;

    private static SKSurface NewSurface(int width, int height) =>
        SKSurface.Create(new SKImageInfo(Math.Max(width, 1), Math.Max(height, 1)))
        ?? throw new InvalidOperationException($"Cannot create a {width}x{height} drawing surface.");

    /// <summary>
    /// Renders a plot on its own surface and copies it in: Plot.Render onto a shared canvas clears the whole canvas,
    /// not just the panel's rectangle.
    /// </summary>
    private static void DrawPanel(SKCanvas canvas, Plot plot, float left, float top, float width, float height)
    {
        using SKSurface panel = NewSurface((int)width, (int)height);
        plot.Render(panel);
        using SKImage image = panel.Snapshot();
        canvas.DrawImage(image, left, top);
    }

    private static void DrawHeader(SKCanvas canvas, BenchRunInfo run, IReadOnlyList<CaseResult> results, int width)
    {
        MachineFacts m = run.Machine;
        string title = TextReport.Title(results) + " — through the IpcCore hub vs raw";
        string facts = $"CPU: {m.CpuLine}   |   {m.SystemLine}   |   {m.Runtime}";
        string method = $"Run {run.StartedAt.ToString("yyyy-MM-dd HH:mm zzz", CultureInfo.InvariantCulture)}, " +
            $"took {ReportFormat.Duration(run.Duration)}.   Throughput: payload MB/s (10^6 B) over all subscribers.   " +
            "Latency: one-way = receive time minus the sender's CLOCK_MONOTONIC stamp, one message in flight.";
        using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        DrawCentered(canvas, title, 36, bold: true, 26, width, paint);
        DrawCentered(canvas, facts, 63, bold: false, 16, width, paint);
        paint.Color = new SKColor(0x55, 0x55, 0x55);
        DrawCentered(canvas, method, 86, bold: false, 14, width, paint);
    }

    /// <summary>One line of header text, shrunk until it fits the width (long CPU names, long kernels).</summary>
    private static void DrawCentered(SKCanvas canvas, string text, float baseline, bool bold, float size, int width, SKPaint paint)
    {
        using var font = new SKFont(Fonts.GetTypeface(FontName, bold, italic: false), size);
        float room = width - 24;
        float measured = font.MeasureText(text);
        if (measured > room)
        {
            font.Size = size * room / measured;
        }
        canvas.DrawText(text, width / 2f, baseline, SKTextAlign.Center, font, paint);
    }

    /// <summary>Throughput per mechanism at one size: a bar per hub fan-out and one for raw.</summary>
    private static Plot ThroughputPanel(List<CaseResult> ok, int size, float panelWidth)
    {
        List<CaseResult> rows = [.. ok.Where(r => r.MessageSize == size && ReportFormat.Has(r.MbPerS))];
        Group[] groups = Groups(rows);
        int[] hubFanOuts = [.. rows.Where(ReportFormat.IsHub).Select(r => r.Subscribers).Distinct().Order()];
        bool onlyOneToOne = hubFanOuts.All(s => s == 1);
        // GB/s once any bar reaches 1000 MB/s, as the text report: short labels, readable axis.
        double divisor = rows.Max(r => r.MbPerS!.Value) >= 1000 ? 1000 : 1;
        string unit = divisor > 1 ? "GB/s" : "MB/s";

        var series = new List<Series>();
        for (int i = 0; i < hubFanOuts.Length; i++)
        {
            int subs = hubFanOuts[i];
            string name = onlyOneToOne ? "hub" : $"hub, 1→{subs.ToString(CultureInfo.InvariantCulture)}";
            series.Add(new Series(name, SeriesColors[i % SeriesColors.Length],
                Values(groups, rows.Where(r => ReportFormat.IsHub(r) && r.Subscribers == subs), r => r.MbPerS / divisor)));
        }
        if (rows.Any(ReportFormat.IsRaw))
        {
            series.Add(new Series(onlyOneToOne ? "raw" : "raw, 1→1", RawColor,
                Values(groups, rows.Where(ReportFormat.IsRaw), r => r.MbPerS / divisor)));
        }

        return BarPanel(
            $"Throughput, {ReportFormat.Size(size)} messages (higher is better)",
            $"Throughput ({unit}, 1 MB = 10^6 B)",
            groups,
            series,
            panelWidth,
            CompactNumber,
            CompactNumber);
    }

    /// <summary>One-way p50 and p99 per mechanism through the hub (raw when no hub latency was measured), per size.</summary>
    private static Plot LatencyPanel(List<CaseResult> ok, float panelWidth)
    {
        List<CaseResult> measured = [.. ok.Where(r => ReportFormat.Has(r.LatP50Us) || ReportFormat.Has(r.LatP99Us))];
        bool hub = measured.Any(ReportFormat.IsHub);
        List<CaseResult> rows = [.. measured.Where(r => hub ? ReportFormat.IsHub(r) : ReportFormat.IsRaw(r))];
        if (rows.Count == 0)
        {
            return EmptyPanel("One-way latency: no figures");
        }
        Group[] groups = Groups(rows);
        int[] sizes = [.. rows.Select(r => r.MessageSize).Distinct().Order()];

        var series = new List<Series>();
        for (int i = 0; i < sizes.Length; i++)
        {
            int size = sizes[i];
            // Latency runs have one receiver; should rows with a fan-out carry figures too, the 1→1 one wins.
            List<CaseResult> atSize = [.. rows.Where(r => r.MessageSize == size).OrderBy(r => r.Subscribers)];
            string suffix = sizes.Length > 1 ? ", " + ReportFormat.Size(size) : string.Empty;
            Color color = SeriesColors[i % SeriesColors.Length];
            series.Add(new Series("p50" + suffix, color, Values(groups, atSize, r => r.LatP50Us)));
            series.Add(new Series("p99" + suffix, color.WithAlpha(0.45), Values(groups, atSize, r => r.LatP99Us)));
        }

        string path = hub ? "through the hub" : "raw (no hub latency measured)";
        return BarPanel(
            $"One-way latency {path}, p50 and p99 (lower is better)",
            "One-way latency (µs)",
            groups,
            series,
            panelWidth,
            LatencyBarLabel,
            LatencyTick);
    }

    /// <summary>The mechanisms present, in report order, with a long and a short tick label.</summary>
    private static Group[] Groups(List<CaseResult> rows) =>
    [
        .. rows.Select(r => new Group(
                ReportFormat.Mechanism(r),
                string.IsNullOrEmpty(r.Variant) ? r.Transport : $"{r.Transport} {r.Variant}"))
            .Distinct(),
    ];

    /// <summary>A series' value per group (null where it has none: no bar).</summary>
    private static double?[] Values(Group[] groups, IEnumerable<CaseResult> rows, Func<CaseResult, double?> figure)
    {
        var values = new double?[groups.Length];
        foreach (CaseResult r in rows)
        {
            int g = Array.FindIndex(groups, x => x.Mechanism == ReportFormat.Mechanism(r));
            if (g >= 0 && values[g] is null && figure(r) is { } v && double.IsFinite(v) && v > 0)
            {
                values[g] = v;
            }
        }
        return values;
    }

    /// <summary>Grouped bars: a group per mechanism, a bar per series; log10 value axis when the values span a wide range.</summary>
    private static Plot BarPanel(string title, string valueAxis, Group[] groups, List<Series> series, float panelWidth,
        Func<double, string> barLabel, Func<double, string> tickLabel)
    {
        Plot plot = NewPlot(title);
        double[] all = [.. series.SelectMany(s => s.Values).OfType<double>()];
        if (all.Length == 0)
        {
            plot.Title(title + ": no figures", 17);
            return plot;
        }
        plot.YLabel(valueAxis, 14);
        bool log = all.Max() / all.Min() > LogScaleRatio;
        // Log bars grow from the decade below the smallest value (there is no log of 0).
        double logBase = Math.Floor(Math.Log10(all.Min()));

        // Rough pixels: the data area is most of the panel less the value axis.
        float groupPixels = (panelWidth - 90) / groups.Length;
        double slot = 0.84 / series.Count;
        float barPixels = (float)(groupPixels * slot * 0.9);
        bool labelled = barPixels >= MinLabelledBarPixels;

        var bars = new List<Bar>();
        for (int s = 0; s < series.Count; s++)
        {
            for (int g = 0; g < groups.Length; g++)
            {
                if (series[s].Values[g] is not { } v)
                {
                    continue;
                }
                bars.Add(new Bar
                {
                    Position = g - 0.42 + (slot * (s + 0.5)),
                    Value = log ? Math.Log10(v) : v,
                    ValueBase = log ? logBase : 0,
                    Size = slot * 0.9,
                    FillColor = series[s].Color,
                    LineWidth = 0,
                    Label = labelled ? barLabel(v) : string.Empty,
                });
            }
        }
        var barPlot = plot.Add.Bars(bars);
        barPlot.ValueLabelStyle.FontSize = barPixels >= 34 ? 12 : 10;

        bool wide = groupPixels >= WideGroupPixels;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. Enumerable.Range(0, groups.Length).Select(g => (double)g)],
            [.. groups.Select(g => wide ? TwoLines(g.Mechanism) : g.Short)]);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 12;
        if (!wide)
        {
            // Narrow groups: short names, slanted so neighbours do not overlap.
            plot.Axes.Bottom.TickLabelStyle.Rotation = -30;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
            // ScottPlot sizes the axis for level text; make room for the slant of the longest label.
            int longest = groups.Max(g => g.Short.Length);
            plot.Axes.Bottom.MinimumSize = 14 + (longest * 7 * 0.5f);
        }
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Grid.XAxisStyle.MajorLineStyle.Width = 0;
        if (log)
        {
            plot.Axes.Left.TickGenerator = LogTicks(logBase, Math.Ceiling(Math.Log10(all.Max())), tickLabel);
            plot.YLabel(valueAxis + ", log scale", 14);
        }
        else
        {
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = tickLabel };
        }
        // Room above the tallest bar for its label and the legend; then half a group of air at either end
        // (after the margins, which would otherwise fit X to the bars).
        plot.Axes.Margins(left: 0, right: 0, bottom: 0, top: 0.25);
        plot.Axes.SetLimitsX(-0.6, groups.Length - 0.4);

        foreach (Series s in series)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = s.Name, FillColor = s.Color });
        }
        plot.Legend.Orientation = Orientation.Horizontal;
        plot.Legend.FontSize = 12;
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    /// <summary>Major ticks at the decades (labelled with the real values), minor ticks at 2..9 of each decade.</summary>
    private static ScottPlot.TickGenerators.NumericManual LogTicks(double fromExponent, double toExponent, Func<double, string> label)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (double e = fromExponent; e <= toExponent; e++)
        {
            ticks.AddMajor(e, label(Math.Pow(10, e)));
            for (int k = 2; k <= 9 && e < toExponent; k++)
            {
                ticks.AddMinor(e + Math.Log10(k));
            }
        }
        return ticks;
    }

    private static Plot EmptyPanel(string title)
    {
        Plot plot = NewPlot(title);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual();
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual();
        return plot;
    }

    private static Plot NewPlot(string title)
    {
        var plot = new Plot();
        plot.Font.Set(FontName);
        plot.Title(title, 17);
        return plot;
    }

    /// <summary><c>Shared Memory (futex)</c> → two lines, so tick labels stay narrow.</summary>
    private static string TwoLines(string mechanism)
    {
        int paren = mechanism.IndexOf(" (", StringComparison.Ordinal);
        return paren < 0 ? mechanism : mechanism[..paren] + "\n" + mechanism[(paren + 1)..];
    }

    /// <summary>2100 → 2100, 42.5 → 42.5, 0.85 → 0.85.</summary>
    private static string CompactNumber(double v) => v switch
    {
        >= 100 => v.ToString("0", CultureInfo.InvariantCulture),
        >= 10 => v.ToString("0.#", CultureInfo.InvariantCulture),
        _ => v.ToString("0.##", CultureInfo.InvariantCulture),
    };

    /// <summary>Bar labels as the table rounds them, µs without the unit (the axis says it): <c>3.1</c>, <c>1.3ms</c>.</summary>
    private static string LatencyBarLabel(double us) =>
        ReportFormat.Latency(us).Replace(" us", string.Empty, StringComparison.Ordinal).Replace(" ", string.Empty, StringComparison.Ordinal);

    /// <summary>Axis ticks: <c>1 µs</c>, <c>20 µs</c>, <c>1 ms</c>.</summary>
    private static string LatencyTick(double us) => us switch
    {
        >= 1e6 => CompactNumber(us / 1e6) + " s",
        >= 1e3 => CompactNumber(us / 1e3) + " ms",
        _ => CompactNumber(us) + " µs",
    };

    private sealed record Group(string Mechanism, string Short);

    private sealed record Series(string Name, Color Color, double?[] Values);
}
