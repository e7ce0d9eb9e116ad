using System.Text.Json;
using MyIpcBench.Model;
using MyIpcBench.Reporting;
using NUnit.Framework;

namespace IpcCore.Bench.Tests;

[TestFixture]
public class CsvReportTests
{
    [Test]
    public void Header_has_the_json_keys_in_the_same_order()
    {
        string[] lines = Lines(TestData.Results());
        using var json = new StringWriter();
        JsonReport.Write(json, TestData.Results());
        using JsonDocument doc = JsonDocument.Parse(json.ToString());
        string[] keys = [.. doc.RootElement[0].EnumerateObject().Select(p => p.Name)];

        Assert.That(lines[0], Is.EqualTo(string.Join(',', keys)));
        Assert.That(lines[0], Does.StartWith("transport,transport_title,variant,path,message_size,subscribers,"));
    }

    [Test]
    public void One_row_per_result_in_report_order()
    {
        string[] lines = Lines(TestData.Results());

        Assert.Multiple(() =>
        {
            Assert.That(lines, Has.Length.EqualTo(TestData.Results().Count + 1));
            Assert.That(lines[1], Does.StartWith("shm,Shared Memory,futex,hub,1024,1,1000000,"));
        });
    }

    [Test]
    public void An_error_with_a_comma_and_quotes_is_quoted()
    {
        string[] lines = Lines(TestData.Results());
        string failed = lines.Single(l => l.StartsWith("mqueue,POSIX MQueue,,hub,", StringComparison.Ordinal));

        Assert.That(failed, Does.EndWith(",\"mq_open: bad size, \"\"msgsize_max\"\" is 8192\""));
    }

    [Test]
    public void Missing_figures_are_empty_and_numbers_invariant()
    {
        CaseResult row = TestData.Row("socket", "UNIX Socket", "raw", 850.25, null);

        string[] lines = TestData.WithDecimalComma(() => Lines([row]));
        string[] header = lines[0].Split(',');
        string[] fields = lines[1].Split(',');

        Assert.Multiple(() =>
        {
            Assert.That(fields, Has.Length.EqualTo(header.Length));
            Assert.That(fields[Array.IndexOf(header, "mb_per_s")], Is.EqualTo("850.25"));
            Assert.That(fields[Array.IndexOf(header, "lat_p50_us")], Is.Empty);
            Assert.That(fields[Array.IndexOf(header, "hub_over_raw")], Is.Empty);
            Assert.That(fields[Array.IndexOf(header, "error")], Is.Empty);
        });
    }

    [TestCase("plain", "plain")]
    [TestCase("a,b", "\"a,b\"")]
    [TestCase("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [TestCase("two\nlines", "\"two\nlines\"")]
    public void Fields_are_quoted_as_rfc4180(string value, string expected) =>
        Assert.That(CsvReport.Field(value), Is.EqualTo(expected));

    private static string[] Lines(IReadOnlyList<CaseResult> results)
    {
        using var writer = new StringWriter();
        CsvReport.Write(writer, results);
        return writer.ToString().Split(writer.NewLine, StringSplitOptions.RemoveEmptyEntries);
    }
}
