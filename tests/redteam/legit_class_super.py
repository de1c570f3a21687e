# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_class_super
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"bird": "tweety with 2 legs", "count": 3, "dog": "rex with 4 legs (dog)", "isinstance": [true, false], "issubclass": true, "puppy": "bit with 4 legs (dog)", "speak": ["woof", "woof!", "..."], "tricks": ["sit"]}
# @source: over-blocking probe
# Attempt: classes with inheritance, super().__init__(...) and super().__str__()
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

class Animal:
    count = 0

    def __init__(self, name, legs):
        self.name = name
        self.legs = legs
        Animal.count += 1

    def __str__(self):
        return f"{self.name} with {self.legs} legs"

    def speak(self):
        return "..."


class Dog(Animal):
    def __init__(self, name):
        super().__init__(name, 4)
        self.tricks = []

    def __str__(self):
        return super().__str__() + " (dog)"

    def speak(self):
        return "woof"


class Puppy(Dog):
    def speak(self):
        return super().speak() + "!"


def run(inputs):
    d = Dog("rex")
    d.tricks.append("sit")
    p = Puppy("bit")
    bird = Animal("tweety", 2)
    return {"dog": str(d), "puppy": str(p), "bird": str(bird), "speak": [a.speak() for a in (d, p, bird)],
            "count": Animal.count, "isinstance": [isinstance(p, Dog), isinstance(bird, Dog)],
            "issubclass": issubclass(Puppy, Animal), "tricks": d.tricks}
