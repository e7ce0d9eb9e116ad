using System.Text.Json;
using MyIpcBench.Model;
using MyIpcBench.Reporting;
using NUnit.Framework;

namespace IpcCore.Bench.Tests;

[TestFixture]
public class JsonReportTests
{
    private static readonly string[] RequiredKeys =
    [
        "transport", "transport_title", "variant", "path", "message_size", "subscribers", "messages",
        "msgs_per_s", "mb_per_s", "lat_avg_us", "lat_p50_us", "lat_p99_us", "lat_p999_us",
        "rtt_half_avg_us", "rtt_half_p50_us", "rtt_half_p99_us", "rtt_half_p999_us", "latency_samples",
        "hub_over_raw", "hub_gen0_collections", "hub_allocated_bytes_per_message", "error",
    ];

    [Test]
    public void Writes_one_array_with_every_key_in_every_object()
    {
        using JsonDocument doc = Parse(TestData.Results());

        Assert.That(doc.RootElement.ValueKind, Is.EqualTo(JsonValueKind.Array));
        Assert.That(doc.RootElement.GetArrayLength(), Is.EqualTo(TestData.Results().Count));
        foreach (JsonElement row in doc.RootElement.EnumerateArray())
        {
            string[] keys = [.. row.EnumerateObject().Select(p => p.Name)];
            Assert.That(keys, Is.SupersetOf(RequiredKeys));
        }
    }

    [Test]
    public void Numbers_where_set_and_null_where_missing()
    {
        using JsonDocument doc = Parse(TestData.Results());
        JsonElement[] rows = [.. doc.RootElement.EnumerateArray()];

        JsonElement shmHub = rows.Single(r => r.GetProperty("transport").GetString() == "shm"
            && r.GetProperty("path").GetString() == "hub" && r.GetProperty("variant").GetString() == "futex");
        JsonElement failed = rows.Single(r => r.GetProperty("error").ValueKind == JsonValueKind.String);
        JsonElement raw = rows.First(r => r.GetProperty("path").GetString() == "raw");

        Assert.Multiple(() =>
        {
            Assert.That(shmHub.GetProperty("mb_per_s").GetDouble(), Is.EqualTo(2100.5));
            Assert.That(shmHub.GetProperty("lat_p50_us").GetDouble(), Is.EqualTo(0.5));
            Assert.That(shmHub.GetProperty("message_size").GetInt32(), Is.EqualTo(1024));
            Assert.That(shmHub.GetProperty("subscribers").GetInt32(), Is.EqualTo(1));
            Assert.That(shmHub.GetProperty("hub_over_raw").GetDouble(), Is.EqualTo(0.62));
            Assert.That(shmHub.GetProperty("hub_gen0_collections").GetInt32(), Is.Zero);
            Assert.That(shmHub.GetProperty("error").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(failed.GetProperty("error").GetString(), Is.EqualTo(TestData.CommaError));
            Assert.That(failed.GetProperty("mb_per_s").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(failed.GetProperty("lat_p50_us").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(raw.GetProperty("hub_over_raw").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(raw.GetProperty("hub_gen0_collections").ValueKind, Is.EqualTo(JsonValueKind.Null));
        });
    }

    [Test]
    public void Not_a_number_is_written_as_null()
    {
        CaseResult row = TestData.Row("shm", "Shared Memory", "hub", double.PositiveInfinity, double.NaN, variant: "futex");

        using JsonDocument doc = Parse([row]);
        JsonElement written = doc.RootElement[0];

        Assert.Multiple(() =>
        {
            Assert.That(written.GetProperty("mb_per_s").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(written.GetProperty("lat_p50_us").ValueKind, Is.EqualTo(JsonValueKind.Null));
        });
    }

    [Test]
    public void Numbers_are_invariant_under_a_decimal_comma_culture()
    {
        string json = TestData.WithDecimalComma(() =>
        {
            using var writer = new StringWriter();
            JsonReport.Write(writer, TestData.Results());
            return writer.ToString();
        });

        Assert.That(json, Does.Contain("2100.5"));
        using JsonDocument doc = JsonDocument.Parse(json);
        Assert.That(doc.RootElement.GetArrayLength(), Is.EqualTo(TestData.Results().Count));
    }

    [Test]
    public void An_empty_run_is_an_empty_array()
    {
        using JsonDocument doc = Parse([]);

        Assert.That(doc.RootElement.GetArrayLength(), Is.Zero);
    }

    private static JsonDocument Parse(IReadOnlyList<CaseResult> results)
    {
        using var writer = new StringWriter();
        JsonReport.Write(writer, results);
        return JsonDocument.Parse(writer.ToString());
    }
}
