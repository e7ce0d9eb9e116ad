using MyIpcBench.Model;
using MyIpcBench.Reporting;
using NUnit.Framework;

namespace IpcCore.Bench.Tests;

[TestFixture]
public class ChartReportTests
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    [Test]
    public void Writes_a_png()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "chart.png");

        ChartReport.Save(path, TestData.Run(), TestData.Results());

        byte[] png = File.ReadAllBytes(path);
        Assert.That(png, Has.Length.GreaterThan(10_000));
        Assert.That(png.Take(PngSignature.Length), Is.EqualTo(PngSignature));
    }

    [Test]
    public void Several_sizes_wide_latency_spread_and_no_figures_all_render()
    {
        List<CaseResult> results =
        [
            .. TestData.Results(),
            TestData.Row("shm", "Shared Memory", "hub", 30_000, 2000, variant: "futex", size: 65536, subscribers: 4),
            TestData.Row("pipe", "Anonymous Pipe", "raw", 1, null, size: 64),
            TestData.Row("socket", "UNIX Socket", "raw", 100, null, size: 1_048_576),
            TestData.Row("fifo", "Named Pipe (FIFO)", "raw", 50, null, size: 4096),
        ];

        Assert.Multiple(() =>
        {
            Assert.That(ChartReport.Render(TestData.Run(), results, 1600, 1000).Take(PngSignature.Length), Is.EqualTo(PngSignature));
            Assert.That(ChartReport.Render(TestData.Run(), [], 800, 500).Take(PngSignature.Length), Is.EqualTo(PngSignature));
        });
    }

    [Test]
    public void An_unwritable_path_is_an_IOException_naming_it()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "no-such-directory", "chart.png");

        IOException? e = Assert.Throws<IOException>(() => ChartReport.Save(path, TestData.Run(), TestData.Results()));

        Assert.That(e!.Message, Does.Contain(path));
    }

    [Test]
    public void A_file_in_the_way_of_the_directory_is_an_IOException_naming_the_path()
    {
        using var dir = new TempDirectory();
        string file = Path.Combine(dir.Path, "file");
        File.WriteAllText(file, "x");
        string path = Path.Combine(file, "chart.png");

        IOException? e = Assert.Throws<IOException>(() => ChartReport.Save(path, TestData.Run(), TestData.Results()));

        Assert.That(e!.Message, Does.Contain(path));
    }
}
