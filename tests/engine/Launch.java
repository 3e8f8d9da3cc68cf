// One OpenSearch node in this JVM, for the live test suite: started by
// scripts/opensearch from the jars tests/engine/pom.xml resolves.
//
// It does not go through OpenSearch's bootstrap (which refuses to run as
// root, needs a security manager and plugin descriptors that the Maven jars
// lack): it subclasses Node, whose protected constructor takes the plugin
// classes directly. Every setting comes from HOME/config/opensearch.yml,
// which the script writes; logging from HOME/config/log4j2.properties.
//
//   java -cp "classes:lib/*" Launch HOME
//
// The node stops (and flushes) on SIGTERM or SIGINT through a shutdown hook.

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

public final class Launch {
    private static final String[] PLUGINS = {
        "org.opensearch.transport.Netty4Plugin",
        "org.opensearch.analysis.common.CommonAnalysisPlugin",
        "org.opensearch.index.mapper.MapperExtrasPlugin",
    };

    private static final class TestNode extends Node {
        TestNode(Environment env, Collection<Class<? extends Plugin>> plugins) {
            super(env, plugins, true);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: Launch HOME (settings in HOME/config/opensearch.yml)");
            System.exit(2);
        }
        Path home = Paths.get(args[0]).toAbsolutePath();
        Settings base = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .build();
        Path config = home.resolve("config");
        String name = Settings.builder()
            .loadFromPath(config.resolve("opensearch.yml"))
            .build()
            .get("node.name", "n1");
        Environment env = InternalSettingsPreparer.prepareEnvironment(base, Map.of(), config, () -> name);
        LogConfigurator.configure(env);
        List<Class<? extends Plugin>> plugins = new ArrayList<>();
        for (String plugin : PLUGINS) {
            plugins.add(Class.forName(plugin).asSubclass(Plugin.class));
        }
        Node node = new TestNode(env, plugins);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                System.err.println("closing the node: " + e);
            } finally {
                stopped.countDown();
            }
        }));
        node.start();
        System.out.println("node started");
        // The node's threads are daemons: main keeps the JVM alive.
        stopped.await();
    }
}
