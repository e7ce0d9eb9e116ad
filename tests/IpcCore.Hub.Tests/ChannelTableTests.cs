using System.Globalization;
using System.Text;
using NUnit.Framework;

namespace IpcCore.Hub.Tests;

[TestFixture]
public sealed class ChannelTableTests
{
    private static byte[] Name(string s) => Encoding.UTF8.GetBytes(s);

    [Test]
    public void Find_ReturnsTheChannelAddedUnderTheSameBytes_AndNullForOthers()
    {
        var table = new ChannelTable();
        Channel weather = table.Add(Name("weather"));
        Channel temp = table.Add(Name("sensors.temp"));

        Assert.Multiple(() =>
        {
            Assert.That(table.Find(Name("weather")), Is.SameAs(weather));
            Assert.That(table.Find(Name("sensors.temp")), Is.SameAs(temp));
            Assert.That(table.Find(Name("weathe")), Is.Null);
            Assert.That(table.Find(Name("weather.x")), Is.Null);
            Assert.That(table.Count, Is.EqualTo(2));
            Assert.That(weather.Name, Is.EqualTo(Name("weather")));
        });
    }

    [Test]
    public void ManyChannels_GrowTheTable_AndStayFindable()
    {
        var table = new ChannelTable(8);
        var added = new Dictionary<string, Channel>();
        for (int i = 0; i < 20000; i++)
        {
            string name = string.Create(CultureInfo.InvariantCulture, $"c{i % 97}.n{i}");
            added[name] = table.Add(Name(name));
        }
        Assert.That(table.Count, Is.EqualTo(20000));
        Assert.That(table.Capacity, Is.GreaterThanOrEqualTo(20000 * 4 / 3));
        foreach ((string name, Channel channel) in added)
        {
            Assert.That(table.Find(Name(name)), Is.SameAs(channel), name);
        }
    }

    [Test]
    public void Remove_KeepsEveryOtherChannelFindable()
    {
        var table = new ChannelTable(8);
        var names = Enumerable.Range(0, 3000).Select(i => string.Create(CultureInfo.InvariantCulture, $"x.{i}")).ToList();
        foreach (string n in names)
        {
            table.Add(Name(n));
        }
        var random = new Random(1234);
        var removed = new HashSet<string>();
        foreach (string n in names.OrderBy(_ => random.Next()).Take(1500))
        {
            Assert.That(table.Remove(Name(n)), Is.True, n);
            removed.Add(n);
        }
        Assert.That(table.Remove(Name("x.absent")), Is.False);
        Assert.That(table.Count, Is.EqualTo(1500));
        foreach (string n in names)
        {
            Assert.That(table.Find(Name(n)) is not null, Is.EqualTo(!removed.Contains(n)), n);
        }
    }

    [Test]
    public void Lookup_AllocatesNothing()
    {
        var table = new ChannelTable();
        for (int i = 0; i < 100; i++)
        {
            table.Add(Name(string.Create(CultureInfo.InvariantCulture, $"alloc.{i}")));
        }
        byte[] key = Name("alloc.42");
        byte[] missing = Name("alloc.missing");
        table.Find(key);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10000; i++)
        {
            table.Find(key);
            table.Find(missing);
        }
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [Test]
    public void Hash_DependsOnEveryByte()
    {
        Assert.That(ChannelTable.Hash(Name("abcdefgh.1")), Is.Not.EqualTo(ChannelTable.Hash(Name("abcdefgh.2"))));
        Assert.That(ChannelTable.Hash(Name("a")), Is.Not.EqualTo(ChannelTable.Hash(Name("b"))));
        int once = ChannelTable.Hash(Name("abc"));
        Assert.That(ChannelTable.Hash(Name("abc")), Is.EqualTo(once));
    }
}
