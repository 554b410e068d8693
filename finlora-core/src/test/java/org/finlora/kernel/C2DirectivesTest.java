package org.finlora.kernel;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import javax.management.ObjectName;

import static org.junit.jupiter.api.Assertions.assertTrue;

class C2DirectivesTest {
    @Test
    void kernelsCompileWithForcedCleanup() throws Exception {
        assertTrue(Simd.configured().vector(), "this JVM has vectors");
        assertTrue(C2Directives.installed(), "the JVM accepted the directive");
        String stack = String.valueOf(ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerDirectivesPrint",
                new Object[]{new String[0]}, new String[]{String[].class.getName()}));
        int ours = stack.indexOf("matching: " + C2Directives.MATCH);
        assertTrue(ours >= 0, stack);
        int c2 = stack.indexOf("c2 directives:", ours);
        int next = stack.indexOf("Directive:", c2);
        String c2Options = stack.substring(c2, next < 0 ? stack.length() : next);
        assertTrue(c2Options.contains("IncrementalInlineForceCleanup:true"), c2Options);
    }
}
